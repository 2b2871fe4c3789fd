package gate_test

import (
	"context"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/workflows/gate"
)

// answer is a gate giving one verdict and counting its calls.
type answer struct {
	v     gate.Verdict
	calls *int
}

func (a answer) Admit(context.Context, *events.DeployRequested, *manifest.Manifest) (gate.Verdict, error) {
	*a.calls++
	return a.v, nil
}

// TestChain: the first verdict that is not open wins and later gates are
// not asked (a commit a check blocked is never held by a freeze); nil gates
// are skipped; what a verdict records.
func TestChain(t *testing.T) {
	blocked := gate.Verdict{State: gate.Blocked, Gate: "check/unit", Reason: "exit 1"}
	held := gate.Verdict{State: gate.Held, Gate: "freeze", Reason: "frozen"}
	tests := []struct {
		name      string
		verdicts  []gate.Verdict
		want      gate.Verdict
		wantCalls []int
	}{
		{"none", nil, gate.Verdict{State: gate.Open}, nil},
		{"all open", []gate.Verdict{{}, {}}, gate.Verdict{State: gate.Open}, []int{1, 1}},
		{"blocked first", []gate.Verdict{blocked, held}, blocked, []int{1, 0}},
		{"held after open", []gate.Verdict{{}, held}, held, []int{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := make([]int, len(tt.verdicts))
			chain := gate.Chain{nil}
			for i, v := range tt.verdicts {
				chain = append(chain, answer{v, &calls[i]})
			}
			got, err := chain.Admit(context.Background(), &events.DeployRequested{}, nil)
			if err != nil || got != tt.want {
				t.Fatalf("Admit = %+v, %v; want %+v", got, err, tt.want)
			}
			for i, n := range tt.wantCalls {
				if calls[i] != n {
					t.Errorf("gate %d asked %d times, want %d", i, calls[i], n)
				}
			}
		})
	}
	req := (&events.DeployRequested{Env: "staging", Commit: "c1"}).Ask(events.KindAuto, "built", "slipway", "")
	rec, ok := gate.Record(req, held, time.Time{}).(*events.DeployGated)
	if !ok || rec.Outcome != events.OutcomeHeld || rec.Gate != "freeze" || rec.Reason != "frozen" || rec.DedupKey() != req.DedupKey()+".held" {
		t.Errorf("record of a held request: %+v", rec)
	}
	if gate.Record(req, gate.Verdict{State: gate.Pending}, time.Time{}) != nil {
		t.Error("a pending verdict records an event")
	}
}
