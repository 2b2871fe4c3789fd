// Package canary moves an environment to a new commit progressively
// (events.Rollout): a canary in steps, blue-green with the old commit kept,
// or a plain deploy watched for a while.
//
// The new commit first runs beside the old one in the environment's shadow
// (ShadowEnv: "<env>--canary", a second environment of the same target,
// health-gated like any deploy). The controller then writes a Split for
// the proxy (Store.PutSplit): the share of each service's requests the
// shadow gets. The proxy counts, per release, the requests it sent, their
// 5xx answers and their latency, and publishes the counts (Store.Stats).
// Over every step the controller compares the new commit's figures with the
// old one's and with the thresholds, probes the shadow's health paths, and
// reads the operator's commands (slipway promote, slipway abort).
//
// Going back is a change of route: the split is dropped, the shadow
// removed, and the old commit, never touched, serves with every container
// it had; the deploy fails with a *deploy.RolledBackError carrying the
// figures. Going forward deploys the commit into the environment itself
// from the shadow (Deployment.From: a target that can, Docker, takes the
// shadow's containers over, health-gated and swapped in, instead of
// starting the commit twice) while the shadow still answers every request,
// drops the split once the environment serves (Deployment.Promoted), then
// removes what is left of the shadow.
//
// The controller runs inside a deploy, so the environment's deploy lock is
// held for the whole rollout: another deploy of the environment waits for
// it and is then judged as usual (superseded when overtaken). The split and
// the counts live in NATS KV, never in memory alone: a restarted proxy keeps
// splitting, and a deployer that dies mid-rollout leaves a split its
// successor replaces when the request is delivered again (the rollout
// starts from its first step), or that the next plain deploy of the
// environment (a rollback) drops with the shadow.
//
// The deployer wraps each target with the controller below the deployment
// tasks (Controller.WrapTarget): a commit's tasks (migrations) run once,
// before its new release starts beside the old one.
package canary
