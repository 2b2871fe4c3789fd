package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/readmodel"
)

// ReadModel opens the read model the projector keeps.
func (c *Conn) ReadModel(ctx context.Context) (*readmodel.Model, error) {
	return readmodel.Open(ctx, c.JS)
}

// FreshReadModel opens the read model, read once the projector caught up
// (up to 10 s).
func (c *Conn) FreshReadModel(ctx context.Context) (readmodel.Fresh, error) {
	m, err := c.ReadModel(ctx)
	return readmodel.Fresh{Model: m, Consumer: ConsumerReadModel, Wait: 10 * time.Second}, err
}

// RunProjector folds the events of stream SLIPWAY into the read model
// until ctx ends.
func RunProjector(ctx context.Context, cfg *Config, c *Conn) error {
	m, err := c.ReadModel(ctx)
	if err != nil {
		return err
	}
	rt := routes(partReadModel, handlers{cfg: cfg, read: m})[0]
	return natsjs.Fold(ctx, c.JS, rt.Consumer, *logger(ctx), rt.Handler)
}

// projectorConsumer is the declaration of the projector's consumer.
func projectorConsumer() natsjs.Consumer {
	for _, c := range consumers {
		if c.Name == ConsumerReadModel {
			return c.Consumer
		}
	}
	panic("pipeline: no consumer " + ConsumerReadModel)
}

// Reindex rebuilds the read model from stream SLIPWAY: it empties it
// (readmodel.Wipe), folds the stream with a projector of its own beside
// those of the running deployers, and returns once every event stored is
// folded, with their number.
func Reindex(ctx context.Context, cfg *Config, c *Conn) (uint64, error) {
	s, err := c.JS.Stream(ctx, natsjs.StreamName)
	if err != nil {
		return 0, fmt.Errorf("reindex: %w", err)
	}
	// The buckets are made again as the running Slipway provisioned them.
	topo := cfg.Topology
	topo.Replicas, topo.MaxAge = s.CachedInfo().Config.Replicas, s.CachedInfo().Config.MaxAge
	if err := readmodel.Wipe(ctx, c.JS, topo, projectorConsumer()); err != nil {
		return 0, err
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- RunProjector(rctx, cfg, c) }()
	n, err := readmodel.CaughtUp(ctx, c.JS, ConsumerReadModel)
	cancel()
	if rerr := <-done; err == nil && rerr != nil && ctx.Err() == nil {
		err = fmt.Errorf("reindex: %w", rerr)
	}
	return n, err
}
