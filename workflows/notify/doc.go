// Package notify reports Slipway's results back to the git host: every
// build and deploy result becomes a commit status ("slipway/build/<svc>",
// "slipway/deploy/<env>") on its commit, and every release plan a status
// ("slipway/release/<env>") on the release pull request's head and a
// comment on the pull request.
//
// It runs as a consumer of its own, after the events are stored, so a git
// host that is slow or down never holds the pipeline up: each call is
// bounded by a timeout, a final status is tried twice, and after a failure
// the host is left alone for a while (its statuses are dropped and logged)
// so that the queue of notifications keeps moving. Repositories whose host
// has no API token configured are skipped.
package notify
