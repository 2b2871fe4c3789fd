// Package deploy moves environments between commits: it applies deploy
// requests (which environments follow which branch is workflows/release's
// concern). Each deploy request is claimed so it is applied once, a request for the commit an environment already runs
// changes nothing, and a deploy that fails its health checks leaves the
// previous commit serving and is recorded as failed.
//
// With Locks, Queue and Ancestry (as every deployer has them) an environment
// is deployed by one request at a time, under a lease renewed while it runs
// and released on every exit path; a request overtaken by a later one for
// its environment is skipped and recorded as superseded (latest wins, a
// running deploy is never cancelled); and an automatic request never moves
// an environment to an ancestor of the commit it runs. Only a deliberate
// request (its Kind is not auto) may move it back.
//
// Every handled request ends with one events.DeployOutcome, published as
// its result event (with the request's kind, actor and target) and recorded
// in its claim as a Done.
//
// With Targets (as every deployer has it) a request runs on the target it
// names (events.DeployRequested.Target, "" the local daemon); a target the
// operator did not configure, or that the environment may not use, fails
// the deploy for good with the target's name before anything starts.
package deploy
