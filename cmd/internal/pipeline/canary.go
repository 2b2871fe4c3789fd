package pipeline

import (
	"context"
	"fmt"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/proxy"
	"github.com/slipway-dev/slipway/workflows/canary"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// Canary returns the store of progressive rollouts (natsjs.BucketCanary).
func (c *Conn) Canary(ctx context.Context) (*natsstore.CanaryStore, error) {
	kv, err := c.JS.KeyValue(ctx, natsjs.BucketCanary)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", natsjs.BucketCanary, err)
	}
	return natsstore.NewCanaryStore(kv), nil
}

// withRollouts makes h's targets run progressive rollouts (workflows/canary)
// and returns the proxy option that splits and counts their requests.
func withRollouts(ctx context.Context, c *Conn, h *deploy.Handler) (proxy.Option, error) {
	store, err := c.Canary(ctx)
	if err != nil {
		return nil, err
	}
	ctrl := &canary.Controller{Store: store}
	if h.Target != nil {
		h.Target = ctrl.Wrap(h.Target)
	}
	if h.Targets != nil {
		h.Targets = canary.Targets{Targets: h.Targets, C: ctrl}
	}
	id := c.identity
	if id == "" {
		id = holderID(c.name)
	}
	return proxy.WithSplits(store, id), nil
}
