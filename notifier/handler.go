package notifier

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// Handler turns events into notifications.
type Handler struct {
	Sender *Sender
}

// Handle sends the notification of a deploy result. A receiver that
// gives up is logged, not retried by redelivery: the others got it.
func (h *Handler) Handle(ctx context.Context, env events.Envelope) error {
	ev, err := env.Decode()
	if err != nil {
		return events.Permanent(err)
	}
	n, ok := FromDeploy(env.ID, ev)
	if !ok {
		return nil
	}
	if err := h.Sender.Send(ctx, n); err != nil && ctx.Err() != nil {
		return events.Retryable(err, time.Second)
	}
	return nil
}

// WatchDeadLetters sends a notification for each dead letter that arrives
// after it starts, reading the dead letters every poll, until ctx ends.
func (h *Handler) WatchDeadLetters(ctx context.Context, js jetstream.JetStream, poll time.Duration) error {
	seen := uint64(0)
	if dead, err := natsjs.DeadLetters(ctx, js); err == nil && len(dead) > 0 {
		seen = dead[len(dead)-1].Seq
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		dead, err := natsjs.DeadLetters(ctx, js)
		if err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("notifier: read dead letters")
			continue
		}
		for _, d := range dead {
			if d.Seq <= seen {
				continue
			}
			seen = d.Seq
			n := Notification{ID: "deadletter." + d.ID + "." + d.At.UTC().Format("20060102T150405"), Kind: KindDeadLetter, Time: d.At,
				Consumer: d.Consumer, Subject: d.Subject, Seq: d.Seq}
			go func() { _ = h.Sender.Send(ctx, n) }() // logged by Send; the next poll does not wait
		}
	}
}
