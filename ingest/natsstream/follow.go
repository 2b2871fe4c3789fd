package natsstream

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events/natsjs"
)

const (
	// probeEvery is how often, without traffic, the consumer's position is
	// asked to confirm that the index is complete; more often with a
	// duplicate window shorter than 2s (see probeInterval).
	probeEvery = 250 * time.Millisecond
	// windowEvery is how often the stream's duplicate window is read again.
	windowEvery = 10 * time.Second
	// sweepEvery is how often expired keys are dropped from memory.
	sweepEvery = 10 * time.Minute
	// pullExpiry bounds each pull request of the consumer; missing two of
	// its heartbeats (half of it) makes the consumer recreate itself, as
	// after a server restart.
	pullExpiry = 5 * time.Second
	// syncPoll is how often sync looks whether the index caught up.
	syncPoll = 5 * time.Millisecond
	// syncWait bounds how long a look-up waits for the index to catch up;
	// degradedFor is how long look-ups then answer from memory at once.
	syncWait, degradedFor = time.Second, 10 * time.Second
	// restartAfter: an index behind the stream for that long gets a new
	// ordered consumer. The ordered consumer recreates its server-side
	// consumer by itself, but when a cluster lost a node that one may have
	// been placed on the dead node, and recreating it under the same name
	// then fails for good.
	restartAfter = 15 * time.Second
)

// errNotFollowing reports a consumer not created yet.
var errNotFollowing = errors.New("delivery consumer not created")

// follow starts an ordered consumer of the headers of the messages on the
// delivery subjects, from where cfg says, in place of the one before (if
// any). The consumer recreates itself after a reconnect, a server restart
// or missed heartbeats, from the message after the last one it delivered.
func (d *Deliveries) follow(ctx context.Context, cfg natsjs.FollowConfig) error {
	cfg.Filters, cfg.PullExpiry = natsjs.DeliverySubjects(), pullExpiry
	log := zerolog.Ctx(ctx).With().Str("stream", natsjs.StreamName).Logger()
	cfg.OnError = func(err error) { log.Warn().Err(err).Msg("delivery index: consumer error") }
	gen := d.gen.Add(1)
	f, err := natsjs.Follow(ctx, d.stream, cfg, func(h natsjs.Headers) { d.apply(gen, h) })
	if err != nil {
		return err
	}
	d.mu.Lock()
	old := d.follower
	d.follower = f
	d.mu.Unlock()
	if old != nil {
		go old.Stop() // it may wait for a recreation in progress
	}
	d.consumer.Store(nil)
	d.refreshConsumer()
	return nil
}

// restart follows the stream with a new ordered consumer from the message
// after the last one applied.
func (d *Deliveries) restart(ctx context.Context) error {
	return d.follow(ctx, natsjs.FollowConfig{StartSeq: d.streamSeq.Load() + 1})
}

// apply adds the record a message carries, if any, and notes the
// consumer's progress. Messages of a consumer follow replaced are dropped.
func (d *Deliveries) apply(gen uint64, m natsjs.Headers) {
	if gen != d.gen.Load() {
		return
	}
	if m.Stream > d.streamSeq.Load() {
		d.streamSeq.Store(m.Stream)
	}
	if key := m.Header.Get(natsjs.HeaderDelivery); key != "" {
		d.index.add(key, m.Time)
	}
	d.setConsumer(m.ConsumerName)
	d.prog.applied(m.ConsumerName, m.Consumer, m.Pending, d.now())
}

// run confirms the index's completeness when no message did lately, keeps
// the duplicate window current and sweeps expired keys, until ctx ends.
func (d *Deliveries) run(ctx context.Context) {
	defer func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.follower.Stop()
	}()
	log := zerolog.Ctx(ctx).With().Str("stream", natsjs.StreamName).Logger()
	probe := time.NewTimer(d.probeInterval())
	window, sweep := time.NewTicker(windowEvery), time.NewTicker(sweepEvery)
	defer probe.Stop()
	defer window.Stop()
	defer sweep.Stop()
	var failing bool
	var restarted time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweep.C:
			d.index.sweep(d.now())
		case <-window.C:
			d.readWindow(ctx)
		case <-probe.C:
			every := d.probeInterval()
			probe.Reset(every)
			if d.now().UnixNano()-d.prog.completeAt() < int64(every) {
				continue
			}
			if behind := d.now().Sub(time.Unix(0, d.prog.completeAt())); behind > restartAfter && d.now().Sub(restarted) > restartAfter {
				restarted = d.now()
				if err := d.restart(ctx); err != nil {
					log.Warn().Err(err).Msg("delivery index: new consumer not created")
				} else {
					log.Info().Dur("behind", behind).Msg("delivery index: following the stream with a new consumer")
				}
			}
			d.refreshConsumerAsync()
			err := d.ask(ctx)
			switch {
			case err != nil && !failing:
				log.Warn().Err(err).Msg("delivery index: consumer position unknown; the duplicate window covers the gap, then look-ups answer from memory")
			case err == nil && failing:
				log.Info().Msg("delivery index: following the stream again")
			}
			failing = err != nil
		}
	}
}

// probeInterval is probeEvery, or an eighth of the duplicate window when
// that is shorter, so that the index stays fresh without traffic.
func (d *Deliveries) probeInterval() time.Duration {
	return max(min(probeEvery, time.Duration(d.window.Load())/8), 10*time.Millisecond)
}

// ask asks the server how far the consumer has to go for the index to hold
// every record stored before now, and notes it.
func (d *Deliveries) ask(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 4*probeEvery)
	defer cancel()
	at := d.now()
	name := d.consumer.Load()
	if name == nil {
		return errNotFollowing
	}
	delivered, pending, err := natsjs.Position(ctx, d.stream, *name)
	if err != nil {
		return err
	}
	d.prog.expect(mark{consumer: *name, seq: delivered + pending, at: at})
	return nil
}

// refreshConsumer reads the name of the consumer the ordered consumer reads
// through now. It waits while the ordered consumer recreates it: only
// follow and the run loop call it, never a look-up.
func (d *Deliveries) refreshConsumer() {
	d.mu.Lock()
	f := d.follower
	d.mu.Unlock()
	name := f.ConsumerName()
	d.mu.Lock()
	defer d.mu.Unlock()
	if f == d.follower { // not replaced meanwhile
		d.setConsumer(name)
	}
}

// refreshConsumerAsync is refreshConsumer for the run loop, which must not
// wait on a consumer stuck recreating itself: at most one refresh runs at a
// time, in the background.
func (d *Deliveries) refreshConsumerAsync() {
	if d.refreshing.CompareAndSwap(false, true) {
		go func() {
			defer d.refreshing.Store(false)
			d.refreshConsumer()
		}()
	}
}

// setConsumer notes the name of the consumer messages come through.
func (d *Deliveries) setConsumer(name string) {
	if cur := d.consumer.Load(); name != "" && (cur == nil || *cur != name) {
		d.consumer.Store(&name)
	}
}

// sync returns once the index holds every record stored before sync was
// called, or fails when ctx ends first.
func (d *Deliveries) sync(ctx context.Context) error {
	at := d.now().UnixNano()
	tick := time.NewTicker(syncPoll)
	defer tick.Stop()
	var lastErr error
	for i := 0; d.prog.completeAt() < at; i++ {
		if i%20 == 0 {
			if err := d.ask(ctx); err != nil {
				lastErr = err
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("delivery index behind the stream: %w", cmp.Or(lastErr, ctx.Err()))
		case <-tick.C:
		}
	}
	return nil
}

// readWindow reads the stream's duplicate window again.
func (d *Deliveries) readWindow(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, windowEvery/2)
	defer cancel()
	if info, err := d.stream.Info(ctx); err == nil {
		d.window.Store(int64(info.Config.Duplicates))
	}
}
