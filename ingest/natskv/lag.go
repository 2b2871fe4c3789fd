package natskv

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// probeEvery is how often the bucket's last revision is read to check that
// the watcher keeps up.
const probeEvery = 500 * time.Millisecond

// maxLag is how long the watcher may stay short of a revision the bucket
// held before Seen stops trusting memory. It is far inside JetStream's
// duplicate window, which recognises a redelivery in the meantime.
const maxLag = time.Second

// probe compares, every probeEvery until ctx ends, the bucket's last
// revision with the watcher's. The watcher's ordered consumer recovers from
// a reconnect or a server restart on its own, but only once it misses
// heartbeats (about 10s); the probe makes Seen ask the bucket meanwhile.
func (d *Deliveries) probe(ctx context.Context) {
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	var target uint64 // a revision the bucket held at since
	var since time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		last, ok := d.lastRevision(ctx)
		if !ok {
			continue // NATS unreachable: Seen's fallback would fail too
		}
		now := time.Now()
		switch rev := d.rev.Load(); {
		case rev >= last:
			target = 0
			d.setLagging(ctx, false)
		case target == 0:
			target, since = last, now
		case rev >= target:
			d.setLagging(ctx, now.Sub(since) > maxLag)
			target, since = last, now
		case now.Sub(since) > maxLag:
			d.setLagging(ctx, true)
		}
	}
}

// lastRevision returns the revision of the last message the bucket stored.
func (d *Deliveries) lastRevision(ctx context.Context) (uint64, bool) {
	ctx, cancel := context.WithTimeout(ctx, probeEvery)
	defer cancel()
	st, err := d.kv.Status(ctx)
	if err != nil {
		return 0, false
	}
	bs, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return 0, false
	}
	return bs.StreamInfo().State.LastSeq, true
}

func (d *Deliveries) setLagging(ctx context.Context, lagging bool) {
	if d.lagging.Swap(lagging) == lagging {
		return
	}
	log := zerolog.Ctx(ctx).With().Str("bucket", d.kv.Bucket()).Logger()
	if lagging {
		log.Warn().Uint64("revision", d.rev.Load()).Msg("delivery watcher behind the bucket: deduplicating from the bucket until it catches up")
		return
	}
	log.Info().Uint64("revision", d.rev.Load()).Msg("delivery watcher caught up")
}
