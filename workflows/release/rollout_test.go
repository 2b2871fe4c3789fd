package release_test

import (
	"context"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

// TestBuiltCarriesRollout: the deploy request of an environment declaring
// a rollout carries it; one declaring none has none.
func TestBuiltCarriesRollout(t *testing.T) {
	yaml := services + `environments:
  stage:
    rollout: {strategy: canary, steps: [20%], pause: 1m}
  qa: {branch: develop}
`
	for _, tt := range []struct {
		branch string
		want   *events.Rollout
	}{
		{"main", &events.Rollout{Strategy: events.StrategyCanary, Steps: []int{20, 100}, Pause: time.Minute, MaxErrorRate: 5, MinRequests: 20}},
		{"develop", nil},
	} {
		h, p := newHandler(workflowstest.Files{c1: {"slipway.yaml": yaml}}, workflowstest.Results{}, nil, nil, nil)
		if err := h.HandleBuilt(context.Background(), builtEvent(c1, tt.branch)); err != nil {
			t.Fatal(err)
		}
		reqs := workflowstest.Of[*events.DeployRequested](p)
		if len(reqs) != 1 {
			t.Fatalf("%s: %d requests", tt.branch, len(reqs))
		}
		got := reqs[0].Rollout
		if (got == nil) != (tt.want == nil) || (got != nil && (got.Strategy != tt.want.Strategy || len(got.Steps) != 2 || got.Steps[0] != 20 || got.Pause != tt.want.Pause)) {
			t.Errorf("%s: rollout %+v, want %+v", tt.branch, got, tt.want)
		}
	}
}
