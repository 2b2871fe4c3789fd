package natsstream

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go/jetstream"
)

// legacyBucket is the KV bucket in which earlier versions recorded
// deliveries, under the keys natsjs.DeliveryKey makes. It is no longer
// written; a store reads it once at start when it exists, so that an
// upgrade forgets none of the deliveries of the last 7 days. It may be
// deleted once every receiver ran the new version for 7 days.
const legacyBucket = "slipway_deliveries"

// errLegacyClosed reports a watcher closed before it delivered every key.
var errLegacyClosed = errors.New("watcher of the legacy delivery bucket closed while loading")

// loadLegacy adds the keys of legacyBucket, if it exists, to the index.
func (d *Deliveries) loadLegacy(ctx context.Context, js jetstream.JetStream) error {
	kv, err := js.KeyValue(ctx, legacyBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	w, err := kv.WatchAll(ctx, jetstream.MetaOnly(), jetstream.IgnoreDeletes())
	if err != nil {
		return err
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			switch {
			case !ok:
				return errLegacyClosed
			case e == nil:
				return nil
			}
			d.index.add(e.Key(), e.Created())
		}
	}
}
