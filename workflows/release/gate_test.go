package release_test

import (
	"context"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/workflows/gate"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

// fixedGate answers one verdict for every request.
type fixedGate gate.Verdict

func (g fixedGate) Admit(context.Context, *events.DeployRequested, *manifest.Manifest) (gate.Verdict, error) {
	return gate.Verdict(g), nil
}

// TestHandleBuiltGated: an open gate requests the deploy, a pending one
// requests nothing yet, a blocked or held one records the request stopped
// with the gate and its reason instead.
func TestHandleBuiltGated(t *testing.T) {
	src := workflowstest.Files{c1: {"slipway.yaml": declared}}
	tests := []struct {
		name        string
		verdict     gate.Verdict
		wantRequest bool
		wantOutcome events.DeployOutcome
	}{
		{name: "open", verdict: gate.Verdict{State: gate.Open}, wantRequest: true},
		{name: "pending", verdict: gate.Verdict{State: gate.Pending, Gate: "check/unit"}},
		{name: "blocked", verdict: gate.Verdict{State: gate.Blocked, Gate: "check/unit", Reason: "check unit failed: exit 1"}, wantOutcome: events.OutcomeBlocked},
		{name: "held", verdict: gate.Verdict{State: gate.Held, Gate: "freeze", Reason: "frozen by ada"}, wantOutcome: events.OutcomeHeld},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, pub := newHandler(src, workflowstest.Results{}, nil, nil, nil)
			h.Gate = fixedGate(tt.verdict)
			if err := h.HandleBuilt(context.Background(), builtEvent(c1, "main")); err != nil {
				t.Fatal(err)
			}
			reqs := workflowstest.Of[*events.DeployRequested](pub)
			if got := len(reqs) == 1 && reqs[0].Env == "stage"; got != tt.wantRequest {
				t.Errorf("requests %+v, want one to stage: %v", reqs, tt.wantRequest)
			}
			gated := workflowstest.Of[*events.DeployGated](pub)
			if tt.wantOutcome == events.OutcomeUnknown {
				if len(gated) != 0 {
					t.Errorf("recorded %+v, want nothing", gated)
				}
				return
			}
			if len(gated) != 1 || gated[0].Outcome != tt.wantOutcome || gated[0].Gate != tt.verdict.Gate ||
				gated[0].Reason != tt.verdict.Reason || gated[0].Env != "stage" || gated[0].Commit != c1 {
				t.Errorf("recorded %+v, want %s by %s", gated, tt.wantOutcome, tt.verdict.Gate)
			}
		})
	}
}
