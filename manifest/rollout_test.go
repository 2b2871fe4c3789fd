package manifest_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
)

func TestEnvironmentRollout(t *testing.T) {
	tests := []struct {
		name, in string
		want     *events.Rollout
	}{
		{"canary", `{strategy: canary, steps: [10%, 50%, 100%], pause: 2m, max_error_rate: 1%, max_latency_p99: 500ms, watch: 5m}`,
			&events.Rollout{Strategy: "canary", Steps: []int{10, 50, 100}, Pause: 2 * time.Minute, MaxErrorRate: 1,
				MaxLatencyP99: 500 * time.Millisecond, Watch: 5 * time.Minute, MinRequests: manifest.DefaultMinRequests}},
		{"canary defaults, last step added", `{strategy: canary, steps: [25]}`,
			&events.Rollout{Strategy: "canary", Steps: []int{25, 100}, Pause: manifest.DefaultPause, MaxErrorRate: 5, MinRequests: 20}},
		{"blue-green", `{strategy: blue-green, keep: 10m, min_requests: 0}`,
			&events.Rollout{Strategy: "blue-green", Keep: 10 * time.Minute, MaxErrorRate: 5}},
		{"watch only", `{watch: 5m}`, &events.Rollout{Watch: 5 * time.Minute, MaxErrorRate: 5, MinRequests: 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := manifest.Parse([]byte(envHead + "environments:\n  production:\n    rollout: " + tt.in + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			env, _ := m.Environment("production")
			if !reflect.DeepEqual(env.Rollout, tt.want) {
				t.Errorf("Rollout = %+v, want %+v", env.Rollout, tt.want)
			}
		})
	}
}

func TestEnvironmentRolloutErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"unknown strategy", `rollout: {strategy: rainbow}`, "must be canary or blue-green"},
		{"steps going down", `rollout: {strategy: canary, steps: [50%, 10%]}`, "must be more than the step before it"},
		{"step above 100", `rollout: {strategy: canary, steps: [150%]}`, "between 1% and 100%"},
		{"keep without blue-green", `rollout: {strategy: canary, keep: 10m}`, "only strategy: blue-green keeps"},
		{"steps without canary", `rollout: {strategy: blue-green, steps: [10%]}`, "only strategy: canary has steps"},
		{"bad pause", `rollout: {strategy: canary, pause: soon}`, "positive duration"},
		{"nothing to do", `rollout: {max_error_rate: 5%}`, "neither a strategy nor a watch"},
		{"unknown field", `rollout: {strategy: canary, interval: 1m}`, "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := manifest.Parse([]byte(envHead + "environments:\n  production:\n    " + tt.in + "\n"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse() error = %v, want %q", err, tt.want)
			}
		})
	}
	_, err := manifest.Parse([]byte(envHead + "environments:\n  prod--canary:\n"))
	if err == nil || !strings.Contains(err.Error(), `must not contain "--"`) {
		t.Errorf("an environment named like a shadow: %v", err)
	}
}
