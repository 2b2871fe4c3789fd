package natskv

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events/natsjs"
)

// Deliveries records webhook delivery ids in a KV bucket and answers Seen
// from an index of the bucket kept current by a watcher. Build it with
// NewDeliveries; it is safe for concurrent use.
type Deliveries struct {
	kv    jetstream.KeyValue
	index atomic.Pointer[index]
	now   func() time.Time
	// watching is true while the watcher's subscription is open; lagging
	// while the probe finds it behind the bucket. Seen trusts index only
	// when the first holds and the second does not.
	watching, lagging atomic.Bool
	// rev is the highest bucket revision the watcher delivered.
	rev       atomic.Uint64
	stop      context.CancelFunc
	running   sync.WaitGroup
	closeOnce sync.Once
}

// NewDeliveries loads every key of kv (the natsjs.BucketDeliveries bucket)
// into memory and returns the store, which keeps watching kv until ctx ends
// or Close is called. Loading is bounded by ctx.
func NewDeliveries(ctx context.Context, kv jetstream.KeyValue) (*Deliveries, error) {
	d := &Deliveries{kv: kv, now: time.Now}
	w, err := d.load(ctx)
	if err != nil {
		return nil, fmt.Errorf("open delivery store: %w", err)
	}
	var runCtx context.Context
	runCtx, d.stop = context.WithCancel(ctx)
	d.watching.Store(true)
	d.running.Go(func() { d.run(runCtx, w) })
	d.running.Go(func() { d.probe(runCtx) })
	return d, nil
}

// Close stops the watcher. Seen then asks the bucket.
func (d *Deliveries) Close() {
	d.closeOnce.Do(d.stop)
	d.running.Wait()
}

// current reports whether index follows the bucket.
func (d *Deliveries) current() bool {
	return d.watching.Load() && !d.lagging.Load()
}

// Seen reports whether the delivery id of forge was recorded within the
// bucket's TTL: from memory while the watcher follows the bucket, else from
// the bucket.
func (d *Deliveries) Seen(ctx context.Context, forge, id string) (bool, error) {
	key := natsjs.DeliveryKey(forge, id)
	if d.index.Load().has(key, d.now()) {
		return true, nil
	}
	if d.current() {
		return false, nil
	}
	_, err := d.kv.Get(ctx, key)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	}
	return false, fmt.Errorf("look up delivery %s: %w", forge, err)
}

// Record records the delivery id of forge with the time it was recorded, and
// returns once JetStream acknowledged it.
func (d *Deliveries) Record(ctx context.Context, forge, id string) error {
	key := natsjs.DeliveryKey(forge, id)
	now := d.now()
	if _, err := d.kv.Put(ctx, key, []byte(now.UTC().Format(time.RFC3339))); err != nil {
		return fmt.Errorf("record delivery %s: %w", forge, err)
	}
	d.index.Load().add(key, now)
	return nil
}
