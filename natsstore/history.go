package natsstore

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
)

// DeployHistory returns the deploy results and the gated deploys
// (events.RecordOf) of env of repo, oldest first,
// with those earlier versions recorded without the repository in their
// subject.
func DeployHistory(ctx context.Context, js jetstream.JetStream, repo, env string) ([]events.Envelope, error) {
	msgs, err := Messages(ctx, js, append(resultSubjects(repo, env), events.EnvSubject(events.SubjectDeployGated, repo, env))...)
	if err != nil {
		return nil, err
	}
	var out []events.Envelope
	for _, m := range msgs {
		ev, err := m.Decode()
		if err != nil {
			continue
		}
		if r, ok := events.RecordOf(ev); ok && r.Repo.FullName == repo {
			out = append(out, m.Envelope)
		}
	}
	return out, nil
}
