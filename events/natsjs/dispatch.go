package natsjs

import (
	"context"
	"fmt"

	"github.com/slipway-dev/slipway/events"
)

// Typed adapts a handler of one event type to a HandlerFunc. A message of
// another type on the consumer is a permanent error.
func Typed[E events.Event](h func(context.Context, E) error) HandlerFunc {
	return func(ctx context.Context, env events.Envelope) error {
		e, err := env.Decode()
		if err != nil {
			return err
		}
		te, ok := e.(E)
		if !ok {
			return events.Permanent(fmt.Errorf("event %s: unexpected type %s", env.ID, env.Type))
		}
		return h(ctx, te)
	}
}
