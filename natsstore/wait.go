package natsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
)

// DeployOutcome is how a deploy request ended, as WaitDeploy reports it.
type DeployOutcome struct {
	// Outcome is the deploy workflow's: "deployed", "failed", "superseded"
	// or "unchanged" (the environment already ran the request's images).
	Outcome string
	// Result is the recorded result event; nil when unchanged.
	Result *Message
}

// WaitDeploy waits until the deploy request whose id is request has been
// handled, reading its claim, and returns its outcome with the result event
// the deploy workflow recorded in the stream.
func WaitDeploy(ctx context.Context, js jetstream.JetStream, claims workflows.Claims, repo, env, request string) (DeployOutcome, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		b, err := claims.Result(ctx, request)
		switch {
		case err == nil:
			return deployOutcome(ctx, js, repo, env, request, b)
		case !errors.Is(err, workflows.ErrNoResult):
			return DeployOutcome{}, err
		}
		select {
		case <-ctx.Done():
			return DeployOutcome{}, fmt.Errorf("wait for %s: %w", request, ctx.Err())
		case <-tick.C:
		}
	}
}

// deployOutcome finds the result event of a completed request.
func deployOutcome(ctx context.Context, js jetstream.JetStream, repo, env, request string, claim []byte) (DeployOutcome, error) {
	var rec struct {
		Outcome string `json:"outcome"`
	}
	_ = json.Unmarshal(claim, &rec)
	out := DeployOutcome{Outcome: rec.Outcome}
	if rec.Outcome == "unchanged" {
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
	msgs, err := Messages(ctx, js, resultSubjects(repo, env)...)
	if err != nil {
		return out, err
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if id := msgs[i].ID; id == request+".succeeded" || id == request+".failed" || id == request+".superseded" {
			out.Result = &msgs[i]
			return out, nil
		}
	}
	return out, nil
}
