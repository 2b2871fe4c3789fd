// Package notify reports Slipway's results back to the git host: every
// build and deploy result becomes a commit status ("slipway/build/<svc>",
// "slipway/deploy/<env>") on its commit, and every release plan a status
// ("slipway/release/<env>") on the release pull request's head and a
// comment on the pull request.
//
// It runs as a consumer of its own, after the events are stored, so a git
// host that is slow or down never holds the pipeline up: each call is
// bounded by a timeout, a final status is tried twice, and after a failure
// the host is left alone for a while so that the queue of notifications
// keeps moving. What it did not take meanwhile is kept in memory, bounded
// (Config.MaxPending per host), the latest per commit and check, and posted
// by Handler.Run when the host answers again: a status is lost only when a
// later one of the same check supersedes it, when the host refuses it (a
// 4xx), or when the process stops. Repositories whose host has no API token
// configured are skipped.
package notify
