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

// publish sends m, named id in errors, and waits for the acknowledgement.
func (p *Publisher) publish(ctx context.Context, id string, m *nats.Msg) (bool, error) {
	ack, err := p.js.PublishMsg(ctx, m)
	if err != nil {
		return false, events.Retryable(fmt.Errorf("publish %s: %w", id, err), 2*time.Second)
	}
	return ack.Duplicate, nil
}
