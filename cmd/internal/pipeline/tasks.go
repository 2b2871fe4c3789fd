package pipeline

import (
	"context"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
	"github.com/slipway-dev/slipway/workflows/tasks"
)

// WithTasks returns the function that wraps a target so that every deploy
// to it first runs the deployment tasks its services declare, on that
// target, once per environment and commit.
func WithTasks(ctx context.Context, cfg *Config, c *Conn) (func(target.Target) deploy.Target, error) {
	claims, err := c.claims(ctx)
	if err != nil {
		return nil, err
	}
	pub := natsjs.NewPublisher(c.JS, "/slipway/deployer")
	return func(t target.Target) deploy.Target {
		return &tasks.Target{Target: t, Runner: t, Claims: claims, Publisher: pub, ClaimTTL: cfg.ClaimTTL}
	}, nil
}
