package deploy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// TestDeployRecordsKindActorAndOutcome: the result event, the claim's
// record and the environment's record of a deploy carry the request's kind
// and actor from its fields (the id here names no kind) and the outcome.
func TestDeployRecordsKindActorAndOutcome(t *testing.T) {
	tests := []struct {
		name        string
		kind        events.DeployKind
		actor       string
		fail        error
		running     bool
		wantOutcome events.DeployOutcome
		wantEvent   string
	}{
		{"rollback succeeds", events.KindRollback, "ada", nil, false, events.OutcomeSucceeded, events.TypeDeploySucceeded},
		{"release fails", events.KindRelease, "bob", events.Permanent(errors.New("web: no 2xx")), false, events.OutcomeFailed, events.TypeDeployFailed},
		{"replay of what runs", events.KindReplay, "ada", nil, true, events.OutcomeUnchanged, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := &target{live: map[string]deploy.Release{}, fail: tt.fail}
			h, p, st := newHandler(t, tg)
			ctx := context.Background()
			if tt.running {
				if err := h.HandleDeploy(ctx, request(commit(1), "")); err != nil {
					t.Fatal(err)
				}
				p.Take()
				st.states = nil
			}
			req := request(commit(1), "").Ask(tt.kind, "some-trigger", tt.actor, "x")
			req.Nonce = "n1" // the id names no kind
			if err := h.HandleDeploy(ctx, req); err != nil && !events.IsPermanent(err) {
				t.Fatal(err)
			}
			b, err := h.Claims.Result(ctx, req.DedupKey())
			if err != nil {
				t.Fatal(err)
			}
			done, err := deploy.ParseDone(b)
			if err != nil || done != (deploy.Done{Outcome: tt.wantOutcome, Kind: tt.kind, Actor: tt.actor}) {
				t.Errorf("claim record %s = %+v, %v; want %s of %s by %s", b, done, err, tt.wantOutcome, tt.kind, tt.actor)
			}
			evs := p.Events()
			if tt.wantEvent == "" {
				if len(evs) != 0 {
					t.Errorf("published %d events, want none", len(evs))
				}
				return
			}
			if len(evs) != 1 || evs[0].EventType() != tt.wantEvent {
				t.Fatalf("published %v, want one %s", evs, tt.wantEvent)
			}
			env, err := events.NewEnvelope(evs[0], "/test", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			back, err := env.Decode()
			if err != nil {
				t.Fatal(err)
			}
			r, _ := events.ResultOf(back)
			if r.Kind != tt.kind || r.Actor != tt.actor || r.Outcome != tt.wantOutcome || r.Request != req.DedupKey() {
				t.Errorf("result: %s of %s by %s for %s; want %s of %s by %s", r.Outcome, r.Kind, r.Actor, r.Request, tt.wantOutcome, tt.kind, tt.actor)
			}
			if tt.wantOutcome == events.OutcomeSucceeded && (len(st.states) != 1 || st.states[0].Kind != tt.kind || st.states[0].Actor != tt.actor) {
				t.Errorf("environment records %+v, want one of %s by %s", st.states, tt.kind, tt.actor)
			}
		})
	}
}
