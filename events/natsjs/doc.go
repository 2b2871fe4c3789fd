// Package natsjs is the one place Slipway talks to NATS JetStream and
// watermill: the embedded server, the idempotent set-up of the stream, the
// durable consumers it is given (the wiring declares them:
// cmd/internal/pipeline/topology.go) and the KV buckets, the CloudEvents wire
// codec, the publisher, the watermill-based consumer loop with its error
// policy, the dead-letter stream, the reading of the audit log and the
// ordered headers-only follower (Follow), the role keys and the permissions
// of the embedded server (derived from the declared consumers), and the
// zerolog adapter for watermill. The stores the workflows use
// (claims, locks, environments, previews, history) live in natsstore.
//
// Guarantees: Publish returns only after JetStream acknowledged the message
// (or reported it a duplicate inside the duplicate window); every message
// carries the CloudEvents attributes as ce-* headers and its ce-id as
// Nats-Msg-Id. A handler's events.PermanentError is acknowledged (the workflow
// has recorded the failure), any other error is redelivered with backoff until
// the consumer's MaxDeliver; then it is copied into SLIPWAY_DLQ, from where
// RetryDeadLetter publishes it again under a new id. Reading the audit log
// (Events) creates no consumer, so it works on a cluster that lost a node.
// It imports no workflow; workflow code never imports this package or its
// dependencies.
package natsjs
