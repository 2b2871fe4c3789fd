package natsjs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
)

// Events reads, oldest first, every stored event whose subject matches one of
// filters: the stream is the audit log. It stops at the end of the stream.
func Events(ctx context.Context, js jetstream.JetStream, filters ...string) ([]events.Envelope, error) {
	c, err := js.OrderedConsumer(ctx, StreamName, jetstream.OrderedConsumerConfig{FilterSubjects: filters})
	if err != nil {
		return nil, fmt.Errorf("read %v: %w", filters, err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %v: %w", filters, err)
	}
	var out []events.Envelope
	for pending := info.NumPending; pending > 0; {
		batch, err := c.Fetch(int(min(pending, 256)), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, fmt.Errorf("read %v: %w", filters, err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			env, err := DecodeHeaders(m.Headers(), m.Data())
			if err == nil {
				out = append(out, env)
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return nil, fmt.Errorf("read %v: %w", filters, err)
		}
		if n == 0 {
			break
		}
		pending -= uint64(n)
	}
	return out, nil
}

// DeployHistory returns the deploy results of env, oldest first.
func DeployHistory(ctx context.Context, js jetstream.JetStream, env string) ([]events.Envelope, error) {
	e := events.KeyPart(env)
	return Events(ctx, js, events.SubjectDeploySucceeded+"."+e, events.SubjectDeployFailed+"."+e,
		events.SubjectDeploySuperseded+"."+e)
}
