package natsstream

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
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
)

// errNotFollowing reports a consumer not created yet.
var errNotFollowing = errors.New("delivery consumer not created")

// follow starts an ordered consumer of the headers of the messages on the
// delivery subjects stored within the last DeliveryTTL, and returns once
// the index holds every record stored before follow was called. The
// consumer recreates itself after a reconnect, a server restart or missed
// heartbeats, from the message after the last one it delivered.
func (d *Deliveries) follow(ctx context.Context) error {
	start := d.now().Add(-natsjs.DeliveryTTL)
	cons, err := d.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: natsjs.DeliverySubjects(),
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &start,
		HeadersOnly:    true,
	})
	if err != nil {
		return err
	}
	log := zerolog.Ctx(ctx).With().Str("stream", natsjs.StreamName).Logger()
	cc, err := cons.Consume(d.apply, jetstream.PullExpiry(pullExpiry), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		log.Warn().Err(err).Msg("delivery index: consumer error")
	}))
	if err != nil {
		return err
	}
	d.cons, d.cc = cons, cc
	return d.sync(ctx)
}

// apply adds the record a message carries, if any, and notes the
// consumer's progress.
func (d *Deliveries) apply(m jetstream.Msg) {
	md, err := m.Metadata()
	if err != nil {
		return
	}
	if key := m.Headers().Get(natsjs.HeaderDelivery); key != "" {
		d.index.add(key, md.Timestamp)
	}
	d.prog.applied(md.Consumer, md.Sequence.Consumer, md.NumPending, d.now())
}

// run confirms the index's completeness when no message did lately, keeps
// the duplicate window current and sweeps expired keys, until ctx ends.
func (d *Deliveries) run(ctx context.Context) {
	defer d.cc.Stop()
	log := zerolog.Ctx(ctx).With().Str("stream", natsjs.StreamName).Logger()
	probe := time.NewTimer(d.probeInterval())
	window, sweep := time.NewTicker(windowEvery), time.NewTicker(sweepEvery)
	defer probe.Stop()
	defer window.Stop()
	defer sweep.Stop()
	var failing bool
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
			err := d.ask(ctx)
			switch {
			case err != nil && !failing:
				log.Warn().Err(err).Msg("delivery index: consumer position unknown; the duplicate window covers the gap, then look-ups wait for it")
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
	ci := d.cons.CachedInfo()
	if ci == nil {
		return errNotFollowing
	}
	c, err := d.stream.Consumer(ctx, ci.Name)
	if err != nil {
		return err
	}
	info := c.CachedInfo()
	d.prog.expect(mark{consumer: info.Name, seq: info.Delivered.Consumer + info.NumPending, at: at})
	return nil
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
