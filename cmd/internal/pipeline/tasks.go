package pipeline

import (
	"context"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/provision"
	"github.com/slipway-dev/slipway/workflows/target"
	"github.com/slipway-dev/slipway/workflows/tasks"
)

// WithTasks returns the function that wraps a target so that every deploy
// to it first runs the deployment tasks its services declare, on that
// target, once per environment and commit.
func WithTasks(ctx context.Context, cfg *Config, c *Conn) (func(target.Target) deploy.Target, error) {
	wrap, _, err := withTasks(ctx, cfg, c, false)
	return wrap, err
}

// withTasks is WithTasks that, when provisions, applies the provisioning
// steps of a commit before its tasks with the returned Provisioner, whose
// Runners, Checkouts, Manifests and Secrets the caller sets before the
// first deploy.
func withTasks(ctx context.Context, cfg *Config, c *Conn, provisions bool) (func(target.Target) deploy.Target, *provision.Provisioner, error) {
	claims, err := c.claims(ctx)
	if err != nil {
		return nil, nil, err
	}
	pub := natsjs.NewPublisher(c.JS, "/slipway/deployer")
	prov := &provision.Provisioner{Claims: claims, Publisher: pub, ClaimTTL: cfg.ClaimTTL}
	return func(t target.Target) deploy.Target {
		inner := &tasks.Target{Target: t, Runner: t, Claims: claims, Publisher: pub, ClaimTTL: cfg.ClaimTTL}
		if !provisions {
			return inner
		}
		return &provision.Target{Target: inner, Provisioner: prov}
	}, prov, nil
}
