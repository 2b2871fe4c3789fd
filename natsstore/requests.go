package natsstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// DeployQueue reads the queue of deploy requests of each environment: the
// stream's messages on slipway.deploy.requested.<repo>.<env>.
type DeployQueue struct{ js jetstream.JetStream }

var _ deploy.Queue = (*DeployQueue)(nil)

// NewDeployQueue returns the queue read through js.
func NewDeployQueue(js jetstream.JetStream) *DeployQueue { return &DeployQueue{js: js} }

// Latest implements deploy.Queue: the last deploy request published for env
// of repo. A request an earlier version published on the subject of the
// environment alone counts when it is the later one and names repo.
func (q *DeployQueue) Latest(ctx context.Context, repo, env string) (*events.DeployRequested, error) {
	id := events.EnvID{Repo: repo, Env: env}
	s, err := q.js.Stream(ctx, natsjs.StreamName)
	if err != nil {
		return nil, fmt.Errorf("latest deploy request of %s: %w", id, err)
	}
	req, seq, err := lastRequest(ctx, s, events.EnvSubject(events.SubjectDeployRequested, repo, env))
	if err != nil {
		return nil, fmt.Errorf("latest deploy request of %s: %w", id, err)
	}
	old, oldSeq, err := lastRequest(ctx, s, events.LegacyEnvSubject(events.SubjectDeployRequested, env))
	if err != nil {
		return nil, fmt.Errorf("latest deploy request of %s: %w", id, err)
	}
	if old != nil && old.Repo.FullName == repo && oldSeq > seq {
		return old, nil
	}
	return req, nil
}

// lastRequest returns the last deploy request on subject and its sequence,
// or nil.
func lastRequest(ctx context.Context, s jetstream.Stream, subject string) (*events.DeployRequested, uint64, error) {
	m, err := s.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	envl, err := natsjs.DecodeHeaders(m.Header, m.Data)
	if err != nil {
		return nil, 0, err
	}
	e, err := envl.Decode()
	if err != nil {
		return nil, 0, err
	}
	req, ok := e.(*events.DeployRequested)
	if !ok {
		return nil, 0, fmt.Errorf("unexpected type %s on %s", envl.Type, subject)
	}
	return req, m.Sequence, nil
}
