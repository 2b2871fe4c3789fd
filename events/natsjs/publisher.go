package natsjs

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
)

// Publisher publishes events to JetStream and waits for the acknowledgement.
type Publisher struct {
	js     jetstream.JetStream
	source string
	now    func() time.Time
}

// NewPublisher returns a publisher stamping events with source (ce-source,
// e.g. "/slipway/ingest").
func NewPublisher(js jetstream.JetStream, source string) *Publisher {
	return &Publisher{js: js, source: source, now: time.Now}
}

// Publish sends e and returns once JetStream stored it. duplicate is true when
// JetStream recognised its ce-id inside the stream's duplicate window and did
// not store it again.
func (p *Publisher) Publish(ctx context.Context, e events.Event) (duplicate bool, err error) {
	env, err := events.NewEnvelope(e, p.source, p.now())
	if err != nil {
		return false, err
	}
	return p.PublishEnvelope(ctx, e.Subject(), env)
}

// PublishEnvelope sends an already built envelope on subject.
func (p *Publisher) PublishEnvelope(ctx context.Context, subject string, env events.Envelope) (bool, error) {
	return p.publish(ctx, env.ID, EncodeMsg(subject, env))
}

// MaxEventSize is the largest message, body and headers, a Publisher sends.
// A larger event is refused with a permanent error before it reaches the
// stream: no event may grow the stream by more than this, and a retry could
// never make it smaller.
const MaxEventSize = 1 << 20

// publish sends m, named id in errors, and waits for the acknowledgement.
func (p *Publisher) publish(ctx context.Context, id string, m *nats.Msg) (bool, error) {
	if n := msgSize(m); n > MaxEventSize {
		return false, events.Permanent(fmt.Errorf("publish %s: event is %d bytes, more than the limit of %d", id, n, MaxEventSize))
	}
	ack, err := p.js.PublishMsg(ctx, m)
	if err != nil {
		return false, events.Retryable(fmt.Errorf("publish %s: %w", id, err), 2*time.Second)
	}
	return ack.Duplicate, nil
}

// msgSize is the size of m's body and headers as NATS sends them.
func msgSize(m *nats.Msg) int {
	n := len(m.Data)
	for k, vs := range m.Header {
		for _, v := range vs {
			n += len(k) + len(v) + len(": \r\n")
		}
	}
	return n
}
