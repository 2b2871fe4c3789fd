package pipeline

import (
	"fmt"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/provision"
	"github.com/slipway-dev/slipway/workflows/target"
)

// provision completes prov, the deployer's Provisioner, with the release
// workflows' mirror and planner, the placement's targets and the
// deployer's secrets, and lets the release workflow plan with it.
func (w *ReleaseWorkflows) provision(prov *provision.Provisioner, targets *target.Placement, secrets deploy.Secrets) {
	prov.Runners = placementRunners{targets}
	prov.Checkouts = w.mirror
	prov.Manifests = w.Release.Planner
	prov.Secrets = secrets
	w.Release.Provision = prov
}

// placementRunners finds the runner of provisioning steps of a placement's
// target.
type placementRunners struct{ p *target.Placement }

// Runner returns the target called name for env of repo, when it runs
// provisioning steps (a Docker target does).
func (r placementRunners) Runner(repo, env, name string) (provision.Runner, error) {
	t, err := r.p.Lookup(repo, env, name)
	if err != nil {
		return nil, err
	}
	run, ok := t.(provision.Runner)
	if !ok {
		return nil, events.Permanent(fmt.Errorf("target %q cannot run provisioning steps (a Docker target can)", events.TargetName(name)))
	}
	return run, nil
}
