package canary_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/canary"
)

// counts returns the counts of n requests taking d each, failed of them
// with a 500.
func counts(n, failed int, d time.Duration) canary.Counts {
	var c canary.Counts
	for i := range n {
		status := 200
		if i < failed {
			status = 500
		}
		c.Observe(status, d)
	}
	return c
}

func TestVerdict(t *testing.T) {
	r := &events.Rollout{MaxErrorRate: 5, MaxLatencyP99: 500 * time.Millisecond, MinRequests: 10}
	tests := []struct {
		name           string
		canary, stable canary.Counts
		want           string
	}{
		{"healthy", counts(100, 1, time.Millisecond), counts(900, 0, time.Millisecond), ""},
		{"too few requests to judge", counts(9, 9, time.Millisecond), counts(90, 0, time.Millisecond), ""},
		{"error rate", counts(20, 10, time.Millisecond), counts(180, 0, time.Millisecond), "error rate 50.0% > 5.0%"},
		{"no worse than the old commit", counts(20, 2, time.Millisecond), counts(200, 40, time.Millisecond), ""},
		{"slow", counts(20, 0, time.Second), counts(180, 0, time.Millisecond), "latency p99"},
		{"as slow as the old commit", counts(20, 0, time.Second), counts(180, 0, 2*time.Second), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := canary.Verdict(r, canary.Stats{Canary: tt.canary, Stable: tt.stable})
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("Verdict() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCountsWindow(t *testing.T) {
	base := counts(10, 1, time.Millisecond)
	now := base.Add(counts(10, 5, 300*time.Millisecond))
	win := now.Sub(base)
	if win.Requests != 10 || win.Errors != 5 || win.ErrorRate() != 50 {
		t.Errorf("window %+v", win)
	}
	if p99 := win.P99(); p99 < 300*time.Millisecond || p99 > 360*time.Millisecond {
		t.Errorf("p99 = %s, want the bucket of 300ms", p99)
	}
	if restarted := counts(3, 0, time.Millisecond).Sub(base); restarted.Requests != 3 {
		t.Errorf("a restarted proxy's window = %+v, want its own 3 requests", restarted)
	}
}

func TestSteps(t *testing.T) {
	tests := []struct {
		r    events.Rollout
		want []int
	}{
		{events.Rollout{Strategy: events.StrategyCanary, Steps: []int{10, 50, 100}}, []int{10, 50, 100}},
		{events.Rollout{Strategy: events.StrategyCanary, Steps: []int{25}}, []int{25, 100}},
		{events.Rollout{Strategy: events.StrategyBlueGreen, Keep: time.Minute}, []int{100}},
		{events.Rollout{Watch: time.Minute}, []int{100}},
	}
	for _, tt := range tests {
		if got := canary.Steps(&tt.r); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Steps(%+v) = %v, want %v", tt.r, got, tt.want)
		}
	}
}
