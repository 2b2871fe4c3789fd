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
// stream's messages on slipway.deploy.requested.<env>.
type DeployQueue struct{ js jetstream.JetStream }

var _ deploy.Queue = (*DeployQueue)(nil)

// NewDeployQueue returns the queue read through js.
func NewDeployQueue(js jetstream.JetStream) *DeployQueue { return &DeployQueue{js: js} }

// Latest implements deploy.Queue: the last deploy request published for env.
func (q *DeployQueue) Latest(ctx context.Context, env string) (*events.DeployRequested, error) {
	s, err := q.js.Stream(ctx, natsjs.StreamName)
	if err != nil {
		return nil, fmt.Errorf("latest deploy request of %s: %w", env, err)
	}
	m, err := s.GetLastMsgForSubject(ctx, events.SubjectDeployRequested+"."+events.KeyPart(env))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("latest deploy request of %s: %w", env, err)
	}
	envl, err := natsjs.DecodeHeaders(m.Header, m.Data)
	if err != nil {
		return nil, fmt.Errorf("latest deploy request of %s: %w", env, err)
	}
	e, err := envl.Decode()
	if err != nil {
		return nil, fmt.Errorf("latest deploy request of %s: %w", env, err)
	}
	req, ok := e.(*events.DeployRequested)
	if !ok {
		return nil, fmt.Errorf("latest deploy request of %s: unexpected type %s", env, envl.Type)
	}
	return req, nil
}
