package natsjs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
)

// BucketDeliveries holds one key per webhook delivery whose events were
// stored: the durable layer of deduplication of deliveries, which outlives
// the stream's duplicate window.
const BucketDeliveries = "slipway_deliveries"

// DeliveryTTL is how long a delivery id is remembered. It covers GitHub's
// manual redelivery of deliveries up to 3 days old and GitLab's resend from
// its 7-day hook log.
const DeliveryTTL = 7 * 24 * time.Hour

// maxIDKey is the longest delivery id kept as is in a key; longer ones are
// hashed.
const maxIDKey = 128

// Deliveries records webhook delivery ids in the KV bucket
// BucketDeliveries. It implements ingest.Deliveries.
type Deliveries struct {
	kv  jetstream.KeyValue
	now func() time.Time
}

// NewDeliveries returns the delivery store on kv, the BucketDeliveries
// bucket.
func NewDeliveries(kv jetstream.KeyValue) *Deliveries {
	return &Deliveries{kv: kv, now: time.Now}
}

// Seen reports whether the delivery id of forge was recorded within
// DeliveryTTL.
func (d *Deliveries) Seen(ctx context.Context, forge, id string) (bool, error) {
	_, err := d.kv.Get(ctx, DeliveryKey(forge, id))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	}
	return false, fmt.Errorf("look up delivery %s: %w", forge, err)
}

// Record records the delivery id of forge with the time it was recorded.
func (d *Deliveries) Record(ctx context.Context, forge, id string) error {
	if _, err := d.kv.Put(ctx, DeliveryKey(forge, id), []byte(d.now().UTC().Format(time.RFC3339))); err != nil {
		return fmt.Errorf("record delivery %s: %w", forge, err)
	}
	return nil
}

// DeliveryKey is the KV key of a delivery: "<forge>.<id>", both encoded with
// events.KeyPart; an id longer than 128 bytes is replaced by "h-" and its
// SHA-256, so that any header value makes a valid key.
func DeliveryKey(forge, id string) string {
	if len(id) > maxIDKey {
		sum := sha256.Sum256([]byte(id))
		return events.KeyPart(forge) + ".h-" + hex.EncodeToString(sum[:])
	}
	return events.KeyPart(forge) + "." + events.KeyPart(id)
}
