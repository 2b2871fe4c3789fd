// Package freeze stops automatic deploys to an environment for a while
// (`slipway lock <env> -m reason -for 2h`): a change freeze, an incident.
//
// What it guarantees: while an environment is frozen, an automatic deploy
// (a commit built on the branch it follows) is not requested but held: the
// freeze record keeps the latest one, and `slipway history` shows it held,
// with the freeze's reason. When the freeze ends, by `slipway unlock` or by
// itself at its expiry (Sweep), the held request is published as it would
// have been: the environment gets the latest commit of its branch, the way
// an Argo CD sync window catches up when it opens. Releases, rollbacks and
// replays are never stopped; the commands asking for them show the freeze.
//
// What it never does: drop a held deploy, or deploy an older commit than
// the environment runs (the deploy workflow's ordering still applies).
package freeze
