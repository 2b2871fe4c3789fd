package natskv

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// sweepEvery is how often expired keys are dropped from memory.
const sweepEvery = 10 * time.Minute

// Bounds of the wait between two attempts to watch the bucket again.
const (
	rewatchMin = 250 * time.Millisecond
	rewatchMax = 5 * time.Second
)

// errWatchClosed reports a watcher whose subscription closed before it had
// delivered the bucket's keys.
var errWatchClosed = errors.New("watcher closed while loading")

// load reads every key of the bucket into a new index, makes it the one
// Seen consults, and returns the watcher that keeps it current: it delivers
// every later put, delete and purge, and survives reconnects (an ordered
// consumer recreates itself after a gap or missed heartbeats).
func (d *Deliveries) load(ctx context.Context) (jetstream.KeyWatcher, error) {
	st, err := d.kv.Status(ctx)
	if err != nil {
		return nil, err
	}
	x := newIndex(st.TTL())
	d.rev.Store(0)
	w, err := d.kv.WatchAll(ctx, jetstream.MetaOnly())
	if err != nil {
		return nil, err
	}
	for {
		select {
		case <-ctx.Done():
			stop(w)
			return nil, ctx.Err()
		case e, ok := <-w.Updates():
			switch {
			case !ok:
				return nil, errWatchClosed
			case e == nil:
				d.index.Store(x)
				return w, nil
			}
			d.apply(x, e)
		}
	}
}

// run applies the watcher's updates until ctx ends, and loads the bucket
// again whenever the watcher's subscription closes.
func (d *Deliveries) run(ctx context.Context, w jetstream.KeyWatcher) {
	defer d.watching.Store(false)
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			stop(w)
			return
		case <-sweep.C:
			d.index.Load().sweep(d.now())
		case e, ok := <-w.Updates():
			if ok {
				d.apply(d.index.Load(), e)
				continue
			}
			d.watching.Store(false)
			if w = d.reload(ctx); w == nil {
				return
			}
			d.watching.Store(true)
		}
	}
}

// reload loads the bucket again, retrying with backoff until it succeeds or
// ctx ends (nil). Keys deleted meanwhile are forgotten, and a bucket created
// again is read from its start.
func (d *Deliveries) reload(ctx context.Context) jetstream.KeyWatcher {
	log := zerolog.Ctx(ctx).With().Str("bucket", d.kv.Bucket()).Logger()
	log.Warn().Msg("delivery watcher closed: deduplicating from the bucket until it is back")
	wait := rewatchMin
	for {
		w, err := d.load(ctx)
		if err == nil {
			log.Info().Msg("delivery watcher back")
			return w
		}
		log.Warn().Err(err).Dur("retry_in", wait).Msg("delivery watcher not back")
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, rewatchMax)
	}
}

// apply records one update of the bucket in x.
func (d *Deliveries) apply(x *index, e jetstream.KeyValueEntry) {
	if e == nil {
		return
	}
	x.apply(e)
	if r := e.Revision(); r > d.rev.Load() {
		d.rev.Store(r)
	}
}

// stop stops w without waiting: stopping deletes the watcher's consumer, a
// request that takes JetStream's timeout (5s) when NATS is unreachable. The
// server also deletes an idle ordered consumer on its own.
func stop(w jetstream.KeyWatcher) {
	go func() { _ = w.Stop() }()
}
