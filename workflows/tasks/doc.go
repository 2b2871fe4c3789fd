// Package tasks runs the deployment tasks a service declares (a database
// migration) from the commit's new images before any of its containers
// starts: Target wraps a deploy.Target and, in Deploy, runs every task of
// every service in declaration order first.
//
// A task succeeds once per (environment, commit, service, task): its claim
// records the run, and a later deploy of the same commit to the same
// environment (a rollback back to it, a replay) does not run it again. A
// failed task fails the deploy permanently — nothing of the commit starts
// and the previous commit keeps serving — and is not recorded as done, so a
// deliberate redeploy runs it again. Every run is published as a
// TaskFinished event with the end of its output.
package tasks
