package natsstream

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// Deliveries records webhook deliveries in the stream natsjs.StreamName, on
// the last event each delivery published, and answers Seen from an
// in-memory index of those records fed by an ordered consumer of the
// stream. Build it with NewDeliveries; it is safe for concurrent use.
type Deliveries struct {
	pub    *natsjs.Publisher
	stream jetstream.Stream
	// mu guards follower, which restart replaces.
	mu       sync.Mutex
	follower *natsjs.Follower
	// consumer names the server-side consumer the ordered consumer reads
	// through now. The follower's ConsumerName blocks while it
	// recreates that consumer (as long as the cluster has no stream
	// leader), so a look-up never calls it: apply and the run loop keep
	// this name current.
	consumer atomic.Pointer[string]
	index    *index
	prog     progress
	now      func() time.Time
	// window is the stream's duplicate window, in nanoseconds.
	window atomic.Int64
	// gen numbers the ordered consumers follow started; apply drops the
	// messages of an earlier one. streamSeq is the stream sequence of the
	// last message applied.
	gen, streamSeq atomic.Uint64
	// degradedUntil (Unix ns): until then look-ups answer from memory
	// without waiting, the index having failed to catch up lately.
	degradedUntil atomic.Int64
	// refreshing is set while a background refreshConsumer runs.
	refreshing atomic.Bool
	runCtx     context.Context
	stop       context.CancelFunc
	running    sync.WaitGroup
	closeOnce  sync.Once
}

// NewDeliveries reads the delivery records of the last natsjs.DeliveryTTL
// from the stream (and those an earlier version left in legacyBucket) into
// memory and returns the store, which publishes
// through pub and keeps following the stream until ctx ends or Close is
// called. Loading is bounded by ctx.
func NewDeliveries(ctx context.Context, js jetstream.JetStream, pub *natsjs.Publisher) (*Deliveries, error) {
	s, err := js.Stream(ctx, natsjs.StreamName)
	if err != nil {
		return nil, fmt.Errorf("open delivery index: %w", err)
	}
	d := &Deliveries{pub: pub, stream: s, index: newIndex(natsjs.DeliveryTTL), now: time.Now}
	d.window.Store(int64(s.CachedInfo().Config.Duplicates))
	if err := d.loadLegacy(ctx, js); err != nil {
		return nil, fmt.Errorf("open delivery index: read %s: %w", legacyBucket, err)
	}
	if err := d.follow(ctx, natsjs.FollowConfig{StartTime: d.now().Add(-natsjs.DeliveryTTL)}); err != nil {
		return nil, fmt.Errorf("open delivery index: %w", err)
	}
	if err := d.sync(ctx); err != nil {
		return nil, fmt.Errorf("open delivery index: %w", err)
	}
	d.runCtx, d.stop = context.WithCancel(ctx)
	d.running.Go(func() { d.run(d.runCtx) })
	return d, nil
}

// Close stops following the stream. Seen then answers from memory while
// that is fresh enough, and fails after.
func (d *Deliveries) Close() {
	d.closeOnce.Do(d.stop)
	d.running.Wait()
}

// Seen reports whether the delivery id of forge was recorded within
// natsjs.DeliveryTTL. It answers from memory while the index is fresh (see
// fresh); otherwise it first waits, at most syncWait, for the index to catch
// up with the stream. When it does not (its consumer is being recreated, as
// after the loss of a cluster node), Seen answers from memory for
// degradedFor without waiting, and says so in the log: the index still
// holds every delivery this process recorded and every one it read until
// then, and JetStream's duplicate window still catches a recent redelivery;
// only a delivery another receiver recorded meanwhile, redelivered after
// half the window, could publish again, which the builds' and deploys'
// claims then ignore. A closed store fails instead.
func (d *Deliveries) Seen(ctx context.Context, forge, id string) (bool, error) {
	key := natsjs.DeliveryKey(forge, id)
	now := d.now()
	if d.index.has(key, now) {
		return true, nil
	}
	if d.fresh(now) || now.UnixNano() < d.degradedUntil.Load() {
		return false, nil
	}
	if d.runCtx.Err() != nil {
		if err := d.sync(ctx); err != nil {
			return false, fmt.Errorf("look up delivery %s: %w", forge, err)
		}
		return d.index.has(key, d.now()), nil
	}
	sctx, cancel := context.WithTimeout(ctx, syncWait)
	err := d.sync(sctx)
	cancel()
	if err != nil && ctx.Err() == nil {
		d.degradedUntil.Store(d.now().Add(degradedFor).UnixNano())
		zerolog.Ctx(ctx).Warn().Err(err).Dur("for", degradedFor).
			Msg("delivery index behind the stream: answering from memory")
	}
	return d.index.has(key, d.now()), nil
}

// Publish publishes e, the last event of the delivery id of forge, carrying
// the delivery's record, and returns once JetStream stored it. When
// duplicate is true the stored copy may name another delivery: the caller
// records the delivery with Record.
func (d *Deliveries) Publish(ctx context.Context, forge, id string, e events.Event) (duplicate bool, err error) {
	key := natsjs.DeliveryKey(forge, id)
	dup, err := d.pub.PublishDelivery(ctx, e, key)
	if err == nil && !dup {
		d.index.add(key, d.now())
	}
	return dup, err
}

// Record stores a record of the delivery id of forge without an event, and
// returns once JetStream acknowledged it.
func (d *Deliveries) Record(ctx context.Context, forge, id string) error {
	key := natsjs.DeliveryKey(forge, id)
	if err := d.pub.RecordDelivery(ctx, key); err != nil {
		return fmt.Errorf("record delivery %s: %w", forge, err)
	}
	d.index.add(key, d.now())
	return nil
}

// fresh reports whether a delivery missing from the index is new: every
// record the index may lack was stored less than half the stream's
// duplicate window ago, so JetStream refuses the events of a redelivery of
// that delivery as duplicates.
func (d *Deliveries) fresh(now time.Time) bool {
	return now.UnixNano()-d.prog.completeAt() < d.window.Load()/2
}
