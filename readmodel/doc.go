// Package readmodel keeps Slipway's query records: a projector folds every
// event of stream SLIPWAY into JetStream KV buckets (natsjs.ReadModelBuckets),
// and query functions read them without scanning the stream.
//
// Writing: Model.Project is the handler of the durable consumer "readmodel"
// (declared in cmd/internal/pipeline/topology.go, run with natsjs.Fold, one
// event at a time in stream order). Each record holds the stream sequence
// of the last event folded into it; an event at or below it changes
// nothing, so a redelivery is harmless. Wipe and CaughtUp rebuild it from
// the stream (`slipway reindex`); the rebuilt model equals the live one.
//
// Reading, for the CLI and an HTTP API (every function takes a context and
// answers from a few KV reads; none depends on the length of the stream):
//
//	m, _ := readmodel.Open(ctx, js)
//	m.Repos(ctx)                        // repositories, with their commit counts
//	m.Commits(ctx, repo, 20)            // the last 20 commits, newest first, each with Builds by service
//	m.Commit(ctx, repo, sha)            // one commit: per service result, reason, step, output, duration, digest, Log subject
//	m.Envs(ctx, repo)                   // environments ("" for every repository): commit, health, target, last deploy, pending request
//	m.Env(ctx, repo, env)
//	m.LastDeploys(ctx, repo, env, 50)   // deploy history, oldest first (kind, actor, trigger, duration, outcome, images)
//	m.Deploys(ctx, repo, env)           // the whole history (release.History)
//	m.Previews(ctx, repo)               // pull request previews, removed ones with HealthRemoved
//	m.Plan(ctx, repo, env, 0)           // the last release plan (or that of a pull request number); m.Plans lists them
//	m.Event(ctx, id)                    // where the last event with id is stored (stream sequence and subject)
//	m.DeadLetters(ctx)                  // what waits in the dead-letter stream
//
// A missing record is an error wrapping ErrNotFound. Fresh wraps a Model so
// that reads first wait (bounded) for the projector to catch up, for a
// command that just published. Build logs are read with package buildlog
// (Build.Log names the subject).
//
// It never writes outside its buckets and never publishes an event.
package readmodel
