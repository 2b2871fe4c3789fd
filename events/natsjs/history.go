package natsjs

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
)

// Events reads, oldest first, every stored event whose subject matches one of
// filters: the stream is the audit log. It stops at the end of the stream.
func Events(ctx context.Context, js jetstream.JetStream, filters ...string) ([]events.Envelope, error) {
	return readStream(ctx, js, filters)
}

// DeployHistory returns the deploy results of env, oldest first.
func DeployHistory(ctx context.Context, js jetstream.JetStream, env string) ([]events.Envelope, error) {
	e := events.KeyPart(env)
	return Events(ctx, js, events.SubjectDeploySucceeded+"."+e, events.SubjectDeployFailed+"."+e,
		events.SubjectDeploySuperseded+"."+e)
}
