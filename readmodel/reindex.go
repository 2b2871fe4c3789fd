package readmodel

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/workflows/release"
)

// Wipe empties the read model for a rebuild: it deletes the projector's
// durable consumer (so no projector folds while the buckets go), deletes
// and creates again every bucket of the read model, and creates the
// consumer again from the first event stored. The projectors sharing the
// consumer then fold the whole stream into the empty buckets, which
// gives what folding it live gave (TestReindexEqualsLive); CaughtUp says
// when they are done. It needs the admin's rights.
func Wipe(ctx context.Context, js jetstream.JetStream, topo natsjs.Topology, projector natsjs.Consumer) error {
	if err := js.DeleteConsumer(ctx, natsjs.StreamName, projector.Name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("reindex: delete consumer %s: %w", projector.Name, err)
	}
	for _, cfg := range natsjs.ReadModelBucketConfigs(topo) {
		if err := js.DeleteKeyValue(ctx, cfg.Bucket); err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) {
			return fmt.Errorf("reindex: delete %s: %w", cfg.Bucket, err)
		}
		if _, err := js.CreateKeyValue(ctx, cfg); err != nil {
			return fmt.Errorf("reindex: create %s: %w", cfg.Bucket, err)
		}
	}
	if _, err := js.CreateConsumer(ctx, natsjs.StreamName, natsjs.ConsumerConfig(topo, projector)); err != nil {
		return fmt.Errorf("reindex: create consumer %s: %w", projector.Name, err)
	}
	return nil
}

// CaughtUp waits until the projector's consumer has folded every event
// stored when it was called, and returns how many events that is.
func CaughtUp(ctx context.Context, js jetstream.JetStream, consumer string) (uint64, error) {
	s, err := js.Stream(ctx, natsjs.StreamName)
	if err != nil {
		return 0, fmt.Errorf("read model catch up: %w", err)
	}
	last := s.CachedInfo().State.LastSeq
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := s.Consumer(ctx, consumer)
		if err != nil {
			return 0, fmt.Errorf("read model catch up: %w", err)
		}
		info := c.CachedInfo()
		if info.AckFloor.Stream >= last || (info.NumPending == 0 && info.NumAckPending == 0 && info.Delivered.Stream >= last) {
			return last, nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("read model catch up to %d (at %d): %w", last, info.AckFloor.Stream, ctx.Err())
		case <-tick.C:
		}
	}
}

// Fresh is the read model read once its projector caught up with the
// stream, or after Wait: a command that just published a deploy, or a
// release plan asked right after a deploy, reads what the stream holds.
type Fresh struct {
	*Model
	// Consumer is the projector's durable consumer.
	Consumer string
	// Wait bounds the wait; past it the read model is read as it is.
	Wait time.Duration
}

var _ release.History = Fresh{}

// CatchUp waits for the projector, up to f.Wait.
func (f Fresh) CatchUp(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, f.Wait)
	defer cancel()
	if _, err := CaughtUp(ctx, f.js, f.Consumer); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("read model behind the stream; answering from it as it is")
	}
}

// Deploys implements release.History once caught up.
func (f Fresh) Deploys(ctx context.Context, repo, env string) ([]release.Deploy, error) {
	f.CatchUp(ctx)
	return f.Model.Deploys(ctx, repo, env)
}
