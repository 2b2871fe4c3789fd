package natsstore

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// DeployHistory returns the deploy results of env, oldest first.
func DeployHistory(ctx context.Context, js jetstream.JetStream, env string) ([]events.Envelope, error) {
	e := events.KeyPart(env)
	return natsjs.Events(ctx, js, events.SubjectDeploySucceeded+"."+e, events.SubjectDeployFailed+"."+e,
		events.SubjectDeploySuperseded+"."+e)
}
