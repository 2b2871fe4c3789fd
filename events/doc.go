// Package events is the centre of Slipway: the versioned event schema that every
// component speaks, the NATS subjects and CloudEvents types it travels under, and
// the deterministic dedup keys that make every step idempotent on the commit SHA.
//
// It imports only the standard library. Nothing here talks to NATS; the wire
// codec lives in events/natsjs. Golden files in testdata/ freeze the JSON form of
// every event: changing a field name is a new schema version, never an edit.
// What a deploy is and how it ended are typed fields (DeployKind,
// DeployOutcome, the actor), never read out of an id; Envelope.Decode
// completes the deploy events earlier versions stored without them
// (legacy.go, fixtures in testdata/v1).
package events
