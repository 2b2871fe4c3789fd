package natsstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// DeployDone is how a deploy request ended, as WaitDeploy reports it: the
// record of its claim (its Outcome, OutcomeUnchanged when the environment
// already ran the request's images) and its result event.
type DeployDone struct {
	deploy.Done
	// Result is the recorded result event; nil when unchanged.
	Result *Message
}

// WaitDeploy waits until the deploy request whose id is request has been
// handled, reading its claim, and returns its outcome with the result event
// the deploy workflow recorded in the stream.
func WaitDeploy(ctx context.Context, js jetstream.JetStream, claims workflows.Claims, repo, env, request string) (DeployDone, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		b, err := claims.Result(ctx, request)
		switch {
		case err == nil:
			return deployDone(ctx, js, repo, env, request, b)
		case !errors.Is(err, workflows.ErrNoResult):
			return DeployDone{}, err
		}
		select {
		case <-ctx.Done():
			return DeployDone{}, fmt.Errorf("wait for %s: %w", request, ctx.Err())
		case <-tick.C:
		}
	}
}

// deployDone finds the result event of a completed request. A record it
// cannot read leaves the outcome unknown; the result event still tells.
func deployDone(ctx context.Context, js jetstream.JetStream, repo, env, request string, claim []byte) (DeployDone, error) {
	done, _ := deploy.ParseDone(claim)
	out := DeployDone{Done: done}
	if done.Outcome == events.OutcomeUnchanged {
		return out, nil
	}
	results := []struct{ subject, suffix string }{
		{events.SubjectDeploySucceeded, ".succeeded"}, {events.SubjectDeployFailed, ".failed"}, {events.SubjectDeploySuperseded, ".superseded"},
	}
	for _, r := range results {
		m, err := LastEvent(ctx, js, events.EnvSubject(r.subject, repo, env))
		if err == nil && m.ID == request+r.suffix {
			out.Result = &m
			return out, nil
		}
	}
	// A later deploy overtook it: the read model's index of ids finds it,
	// once the projector folded it.
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, r := range results {
			m, err := FindEvent(ctx, js, 0, request+r.suffix)
			if err == nil {
				out.Result = &m
				return out, nil
			}
			if !errors.Is(err, ErrEventNotFound) {
				return out, err
			}
		}
		select {
		case <-wait.Done():
			return out, nil
		case <-tick.C:
		}
	}
}
