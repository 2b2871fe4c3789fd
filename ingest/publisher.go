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
// nothing. The one implementation, natsstream, records a delivery on its
// last event and answers Seen from memory.
type Deliveries interface {
	// Seen reports whether the delivery id of the forge was recorded. A
	// record made by another receiver may show a moment later
	// (milliseconds), well inside JetStream's duplicate window, which
	// recognises the redelivered events meanwhile.
	Seen(ctx context.Context, forge, id string) (bool, error)
	// Publish publishes e, the last event of the delivery id of the forge,
	// with the record of the delivery, and returns once both are durably
	// stored, as Publisher.Publish does. The handler calls it only after
	// every other event of the delivery was stored, so that a failed
	// publish never swallows the host's retry.
	Publish(ctx context.Context, forge, id string, e events.Event) (duplicate bool, err error)
	// Record records the delivery id of the forge without an event. The
	// handler calls it when Publish answered duplicate: the stored copy of
	// the event may belong to another delivery.
	Record(ctx context.Context, forge, id string) error
}
