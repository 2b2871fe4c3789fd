// Package natsstream is the webhook receiver's delivery store on the
// JetStream stream natsjs.StreamName. It implements ingest.Deliveries: the
// last event a delivery publishes carries the delivery's record in the
// header natsjs.HeaderDelivery, so the one acknowledgement of that event
// both stores the delivery's events and records the delivery, and Seen
// answers from an in-memory index of the records, so that deduplicating a
// delivery costs no round trip to NATS.
//
// Guarantees:
//
//   - NewDeliveries returns only once the index holds every record stored
//     in the stream within natsjs.DeliveryTTL before it was called, read by
//     an ordered consumer of the headers of the messages on
//     natsjs.DeliverySubjects; so a restarted receiver, or a second one,
//     knows the deliveries others recorded;
//   - Publish returns nil only after JetStream acknowledged the event with
//     its record; Seen then reports the delivery at once in this process,
//     and in every other process following the stream as soon as its
//     consumer delivers the headers (milliseconds). JetStream's duplicate
//     window recognises a redelivery inside that gap. When JetStream
//     answers that the event was a duplicate (its stored copy may name
//     another delivery), the receiver calls Record, which stores a record of
//     its own on natsjs.SubjectDeliveryRecorded;
//   - Seen answers "not seen" from memory only while the index is known to
//     hold every record stored more than half the stream's duplicate window
//     ago (read again every 10s): the events of a delivery it may lack are
//     then still inside the window, and JetStream refuses them as
//     duplicates. The consumer's position confirms completeness with each
//     message it delivers with nothing left pending, and otherwise by asking
//     the server every 250ms. Past that bound (a consumer recreating itself
//     after a server restart) Seen waits up to a second for the index to
//     catch up; when it does not, Seen answers from memory for the next 10s
//     without waiting and logs a warning (degraded: only a delivery another
//     receiver recorded meanwhile and redelivered after half the window
//     could publish again, which the claims downstream ignore), so that a
//     stuck index never stops webhooks. A closed store fails instead;
//   - an index behind the stream for 15s gets a new ordered consumer from
//     the message after the last one it applied: after the loss of a
//     cluster node the ordered consumer's own recreation can keep failing
//     when its server-side consumer was placed on the dead node;
//   - a record is forgotten when natsjs.DeliveryTTL has passed since it was
//     stored;
//   - the keys an earlier version left in the KV bucket slipway_deliveries,
//     when it exists, are read once at start, so that an upgrade forgets no
//     delivery (the bucket is not followed: upgrade every receiver at once).
//
// The index holds every delivery recorded within the TTL, about 100 bytes
// each. The store never records a delivery on its own: the receiver
// publishes the last event through Publish only after the others were
// stored, so that a failed publish never swallows the host's retry.
package natsstream
