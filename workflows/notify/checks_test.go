package notify_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
)

// TestCheckStatuses: a check is pending while it runs, then success or
// failure with its reason; a deploy a gate stopped fails (blocked) or stays
// pending (held).
func TestCheckStatuses(t *testing.T) {
	req := (&events.DeployRequested{Env: "staging", Repo: repo, Commit: sha}).Ask(events.KindAuto, "built", "slipway", "")
	gated := func(o events.DeployOutcome, why string) *events.DeployGated {
		r := req.Result(o, "", time.Time{})
		r.Reason = why
		return &events.DeployGated{DeployResult: r, Gate: "check/unit"}
	}
	tests := []struct {
		name string
		e    events.Event
		want string
	}{
		{"requested", &events.CheckRequested{Repo: repo, Commit: sha, Check: events.Check{Name: "unit"}}, "0123 slipway/check/unit pending running unit "},
		{"passed", &events.CheckFinished{Repo: repo, Commit: sha, Check: "unit", Passed: true, Duration: 1500 * time.Millisecond}, "0123 slipway/check/unit success passed in 1.5s "},
		{"failed", &events.CheckFinished{Repo: repo, Commit: sha, Check: "unit", Log: []string{"--- FAIL: TestCart"}}, "0123 slipway/check/unit failure check unit failed: --- FAIL: TestCart "},
		{"blocked", gated(events.OutcomeBlocked, "check unit failed: exit 1"), "0123 slipway/deploy/staging failure blocked: check unit failed: exit 1 "},
		{"held", gated(events.OutcomeHeld, "frozen by ada"), "0123 slipway/deploy/staging pending held: frozen by ada "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &host{}
			if err := newHandler(h).Handle(context.Background(), tt.e); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(h.posted, []string{tt.want}) {
				t.Errorf("posted %q, want %q", h.posted, tt.want)
			}
		})
	}
}
