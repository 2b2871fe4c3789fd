// Package target is where environments run: the one interface every
// deploy target implements (Target: the Docker daemon beside the deployer,
// remote Docker hosts, a Swarm, a Kubernetes cluster), and the operator's
// placement of environments on targets (Placement, read from a targets
// file by ParseFile).
//
// Contract:
//
//   - A Target keeps no state Slipway could lose: what an environment runs
//     is read back from the target alone (Current, ResolveAll).
//   - The operator names the targets and says which repositories and
//     environments may use each; a commit's slipway.yaml only picks one of
//     them by name. A name the operator did not configure, or a target the
//     environment may not use, fails the deploy for good (events.Permanent)
//     before anything starts, with the name in the error.
//   - events.LocalTarget ("local", the deployer's own Docker daemon) is
//     always configured, open to every repository unless the operator
//     restricts it, and is the target of an environment that names none.
//   - Routing and health checks reach a replica only at an address its
//     target reported, through that target's Dial: nothing assumes the
//     replica runs beside the deployer.
//
// Package targettest is the conformance suite every implementation passes.
package target
