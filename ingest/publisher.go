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

// Deliveries remembers the deliveries whose events were stored, for longer
// than any host redelivers (GitHub lets an operator redeliver for 3 days),
// so that a redelivery long after JetStream's duplicate window publishes
// nothing. Implementations: natskv (answers Seen from memory; the one the
// pipeline uses) and events/natsjs (asks the bucket each time).
type Deliveries interface {
	// Seen reports whether the delivery id of the forge was recorded. A
	// record made by another receiver may show a moment later (natskv:
	// milliseconds; about two seconds at most, while its watcher recovers
	// from a reconnect), well inside JetStream's duplicate window, which
	// recognises the redelivered events meanwhile.
	Seen(ctx context.Context, forge, id string) (bool, error)
	// Record records the delivery id of the forge. The handler calls it
	// only after every event of the delivery was stored, so that a failed
	// publish never swallows the host's retry.
	Record(ctx context.Context, forge, id string) error
}
