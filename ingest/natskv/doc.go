// Package natskv is the webhook receiver's delivery store on the JetStream
// KV bucket natsjs.BucketDeliveries. It implements ingest.Deliveries and
// answers Seen from an in-memory index of the bucket, so that deduplicating
// a delivery costs no round trip to NATS; Record is one put.
//
// Guarantees:
//
//   - NewDeliveries returns only once the index holds every key the bucket
//     held, so a receiver never answers from an empty index;
//   - Record returns nil only after JetStream acknowledged the put of the
//     delivery key; Seen then reports the delivery at once in this process,
//     and in every other process watching the bucket as soon as its watcher
//     receives the put (milliseconds). JetStream's duplicate window
//     recognises a redelivery inside that gap;
//   - Seen asks the bucket instead of memory while the index may be stale:
//     while the watcher is not running (its subscription closed and not yet
//     loaded again, or the store closed), and while it is more than a second
//     behind the bucket's last revision (read twice a second), as after a
//     reconnect or a server restart until its consumer is recreated;
//   - a key is forgotten when the bucket's TTL has passed since it was
//     recorded (the bucket expires it too), or when it is deleted or purged.
//
// The index holds every key recorded within the TTL, about 100 bytes each.
// The store never records a delivery on its own: the receiver calls Record
// after JetStream acknowledged the delivery's events.
package natskv
