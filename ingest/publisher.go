package ingest

import (
	"context"

	"github.com/slipway-dev/slipway/events"
)

// Publisher publishes a verified event. Publish returns once the event is
// durably stored (JetStream acknowledged it), reporting duplicate when the
// store already held an event with the same dedup key. Implementations live
// with the messaging code (events/natsjs).
type Publisher interface {
	Publish(ctx context.Context, e events.Event) (duplicate bool, err error)
}
