package pipeline

import (
	"context"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/tasks"
)

// WithTasks wraps target so that every deploy first runs the deployment
// tasks its services declare, once per environment and commit.
func WithTasks(ctx context.Context, cfg *Config, c *Conn, target *docker.Target) (deploy.Target, error) {
	claims, err := c.claims(ctx)
	if err != nil {
		return nil, err
	}
	return &tasks.Target{
		Target: target, Runner: target, Claims: claims,
		Publisher: natsjs.NewPublisher(c.JS, "/slipway/deployer"), ClaimTTL: cfg.ClaimTTL,
	}, nil
}
