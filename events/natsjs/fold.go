package natsjs

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
)

// Fold hands the events of the durable consumer name to h one at a time,
// in stream order, with their position (StoredOf), until ctx ends: the
// loop of a projector. Unlike Runner it pulls by the consumer's name, so
// it goes on when the consumer is deleted and created again (a rebuild of
// the read model starts it over). h's error decides the message's fate as
// Runner's policy does: nil, permanent or ignored acknowledges, a
// retryable error redelivers after its After, any other after a backoff.
func Fold(ctx context.Context, js jetstream.JetStream, name string, log zerolog.Logger, h HandlerFunc) error {
	log = log.With().Str("consumer", name).Logger()
	var c jetstream.Consumer
	for ctx.Err() == nil {
		if c == nil {
			var err error
			if c, err = js.Consumer(ctx, StreamName, name); err != nil {
				log.Debug().Err(err).Msg("fold: consumer not there, asking again")
				c = nil
				pause(ctx, time.Second)
				continue
			}
		}
		batch, err := c.Fetch(1, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			log.Debug().Err(err).Msg("fold: fetch failed")
			c = nil
			pause(ctx, 200*time.Millisecond)
			continue
		}
		for m := range batch.Messages() {
			foldOne(ctx, log, m, h)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, nats.ErrTimeout) {
			log.Debug().Err(err).Msg("fold: pull ended")
			c = nil
			pause(ctx, 200*time.Millisecond)
		}
	}
	return nil
}

// foldOne hands m to h and settles it.
func foldOne(ctx context.Context, log zerolog.Logger, m jetstream.Msg, h HandlerFunc) {
	env, err := DecodeHeaders(m.Headers(), m.Data())
	if err != nil {
		log.Error().Err(err).Msg("dropping undecodable message")
		_ = m.Ack()
		return
	}
	md, err := m.Metadata()
	if err != nil {
		_ = m.Nak()
		return
	}
	log = log.With().Str("event", env.ID).Uint64("seq", md.Sequence.Stream).Logger()
	hctx := WithStored(log.WithContext(ctx), Stored{Seq: md.Sequence.Stream, Subject: m.Subject()})
	var ignored *events.IgnoredError
	var retry *events.RetryableError
	switch err := h(hctx, env); {
	case err == nil, errors.Is(err, events.ErrAlreadyDone), errors.As(err, &ignored):
		_ = m.Ack()
	case events.IsPermanent(err):
		log.Error().Err(err).Msg("permanent failure, not retried")
		_ = m.Ack()
	case errors.As(err, &retry) && retry.After > 0:
		log.Warn().Err(err).Msg("will retry")
		_ = m.NakWithDelay(retry.After)
	default:
		log.Warn().Err(err).Msg("will retry")
		_ = m.NakWithDelay(backoff{}.WaitTime(md.NumDelivered))
	}
}

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
