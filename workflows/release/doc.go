// Package release moves the environments a repository declares in its
// slipway.yaml: every environment that follows a branch gets each commit
// built on it; an environment that follows a pin file (production) moves only
// when a push to the default branch changes that file — a merged release pull
// request — and then deploys the pinned commit from the images already
// built, never building again. While a release pull request is open, the
// release plan (per service: digest now → new digest, and the commits in
// between) is published as a ReleasePlanned event.
//
// It also holds the operator's decisions that read the audit log: whether a
// commit may be released (built, and healthy on staging), which commit a
// rollback goes back to (any number of steps, rollbacks undone in order),
// what a replay re-publishes, and which commits' images the retention rule
// keeps.
//
// Nothing here builds, deploys or talks to a git host: it publishes
// DeployRequested events for the deploy workflow, with images whose digests
// every environment shares and whose service values (env, replicas, hosts)
// come from the environment's declaration at the deployed commit.
package release
