// Package provision runs the provisioning steps slipway.yaml declares (an
// OpenTofu configuration, `provision:`) on an environment's deploy target:
// the plan on the release pull request, the apply before the services of a
// commit deploy.
//
// A step runs in a container of its image on the environment's target,
// with the step's dir of the commit copied into its working directory and
// a state volume of its own per (repository, environment, step) mounted at
// /state, kept between runs. An apply succeeds once per (environment,
// commit, step): its claim records the run, so a redelivered or repeated
// deploy of the same commit does not apply again. A failed apply fails the
// deploy permanently before any container of the commit starts — the
// previous commit keeps serving — and is not recorded as done, so a
// deliberate redeploy applies again. A plan changes nothing (it runs on
// the same state) and runs on every update of the pull request. Every run
// is published as a ProvisionFinished event with the end of its output,
// ANSI escapes removed; a secret's value never reaches it.
package provision
