package pipeline

import (
	"context"
	"fmt"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/proxy"
	"github.com/slipway-dev/slipway/workflows/canary"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
)

// Canary returns the store of progressive rollouts (natsjs.BucketCanary).
func (c *Conn) Canary(ctx context.Context) (*natsstore.CanaryStore, error) {
	kv, err := c.JS.KeyValue(ctx, natsjs.BucketCanary)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", natsjs.BucketCanary, err)
	}
	return natsstore.NewCanaryStore(kv), nil
}

// withRollouts is WithTasks whose targets run progressive rollouts
// (workflows/canary) below the tasks, so that a commit's tasks run once,
// before its new release starts beside the old one; it returns the proxy
// option that splits and counts their requests too.
func withRollouts(ctx context.Context, cfg *Config, c *Conn, withTasks func(target.Target) deploy.Target) (func(target.Target) deploy.Target, proxy.Option, error) {
	store, err := c.Canary(ctx)
	if err != nil {
		return nil, nil, err
	}
	ctrl := &canary.Controller{Store: store}
	id := c.identity
	if id == "" {
		id = holderID(c.name)
	}
	wrap := func(t target.Target) deploy.Target { return withTasks(ctrl.WrapTarget(t)) }
	return wrap, proxy.WithSplits(store, id), nil
}
