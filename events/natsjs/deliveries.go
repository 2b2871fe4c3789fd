package natsjs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/slipway-dev/slipway/events"
)

// HeaderDelivery names, on the last event a webhook delivery published, the
// delivery ("<forge>.<id>", as DeliveryKey encodes it). The event's storage
// in the stream is the durable record that every event of the delivery is
// stored: no write other than the event itself is needed.
const HeaderDelivery = "Slipway-Delivery"

// SubjectDeliveryRecorded carries the record of a delivery whose last event
// JetStream refused as a duplicate, so that the stored copy may name another
// delivery. Its messages hold HeaderDelivery and no body; they are not
// events, and the readers of events skip them.
const SubjectDeliveryRecorded = events.SubjectRoot + ".ingest.delivery"

// DeliveryTTL is how long a delivery id is remembered. It covers GitHub's
// manual redelivery of deliveries up to 3 days old and GitLab's resend from
// its 7-day hook log.
const DeliveryTTL = 7 * 24 * time.Hour

// maxIDKey is the longest delivery id kept as is in a key; longer ones are
// hashed.
const maxIDKey = 128

// DeliverySubjects returns the subjects of the stream that record
// deliveries: those of the events the webhook receiver publishes, and
// SubjectDeliveryRecorded.
func DeliverySubjects() []string {
	return []string{
		events.SubjectPushReceived,
		events.SubjectRef + ".>",
		events.SubjectPullRequest + ".>",
		SubjectDeliveryRecorded,
	}
}

// PublishDelivery sends e, the last event of the webhook delivery key, with
// HeaderDelivery, and returns once JetStream stored it. When duplicate is
// true JetStream kept an earlier copy, which may not name the delivery:
// RecordDelivery records it then.
func (p *Publisher) PublishDelivery(ctx context.Context, e events.Event, key string) (duplicate bool, err error) {
	env, err := events.NewEnvelope(e, p.source, p.now())
	if err != nil {
		return false, err
	}
	m := EncodeMsg(e.Subject(), env)
	m.Header.Set(HeaderDelivery, key)
	return p.publish(ctx, env.ID, m)
}

// RecordDelivery stores a record of the webhook delivery key on
// SubjectDeliveryRecorded.
func (p *Publisher) RecordDelivery(ctx context.Context, key string) error {
	m := nats.NewMsg(SubjectDeliveryRecorded)
	m.Header.Set(HeaderDelivery, key)
	m.Header.Set(nats.MsgIdHdr, "delivery."+key)
	if _, err := p.publish(ctx, "delivery "+key, m); err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	return nil
}

// DeliveryKey is the record of a delivery: "<forge>.<id>", both encoded with
// events.KeyPart; an id longer than 128 bytes is replaced by "h-" and its
// SHA-256, so that any header value makes a short, valid token.
func DeliveryKey(forge, id string) string {
	if len(id) > maxIDKey {
		sum := sha256.Sum256([]byte(id))
		return events.KeyPart(forge) + ".h-" + hex.EncodeToString(sum[:])
	}
	return events.KeyPart(forge) + "." + events.KeyPart(id)
}
