// Package natsstore keeps the state the workflows read and write in NATS
// JetStream: the claims that make each step run once (workflows.Claims), the
// deploy lock of each environment (deploy.Locks), what each environment runs
// (deploy.Store), pull request previews (preview.Store), the queue of deploy
// requests (deploy.Queue) and the deploy history read from the audit log
// (release.History).
//
// Guarantees: every change of a claim or a lock is a revision-checked Create,
// Update or Delete, so two workers never both hold one; a lease whose expiry
// passed is taken over by one worker only. Claims opened with OpenClaims
// complete builds, commit-built steps and deploys with a TTL (the stream's
// retention, natsjs.ClaimRetention), so the bucket stays bounded; a build
// whose claim expired is found in the read model (Claims.RecordedBuild). Reads of the audit log create no
// durable consumer and change nothing.
//
// It implements interfaces the workflows declare and talks to JetStream
// through the buckets and the stream events/natsjs provisions; it never
// provisions, publishes or consumes events itself.
package natsstore
