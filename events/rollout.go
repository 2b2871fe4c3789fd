package events

import "time"

// The strategies of a Rollout.
const (
	// StrategyCanary sends a growing share of each service's requests to
	// the new commit, in Rollout.Steps, judging it over every Pause.
	StrategyCanary = "canary"
	// StrategyBlueGreen switches every request to the new commit at once
	// and keeps the old one running for Rollout.Keep, so that going back
	// is a change of route.
	StrategyBlueGreen = "blue-green"
)

// Rollout is how an environment moves to a new commit (slipway.yaml
// strategy:, steps:, pause:, keep:, watch: and the thresholds). The zero
// Rollout, or none, is the plain deploy: start, health-check, swap.
type Rollout struct {
	// Strategy is StrategyCanary, StrategyBlueGreen or "" (a plain deploy,
	// watched when Watch is set).
	Strategy string `json:"strategy,omitempty"`
	// Steps are the shares of requests, in percent, the new commit gets
	// one after the other; the last is 100.
	Steps []int `json:"steps,omitempty"`
	// Pause is how long each step below 100% is judged.
	Pause time.Duration `json:"pause_ns,omitempty"`
	// Keep is how long blue-green keeps the old commit running after the
	// switch.
	Keep time.Duration `json:"keep_ns,omitempty"`
	// Watch is how long the new commit is judged once it has every
	// request, before the old one goes.
	Watch time.Duration `json:"watch_ns,omitempty"`
	// MaxErrorRate is the share of 5xx answers, in percent, the new commit
	// may give (when it gives more than the old one too).
	MaxErrorRate float64 `json:"max_error_rate,omitempty"`
	// MaxLatencyP99 is the 99th percentile of latency the new commit may
	// reach (when it is slower than the old one too); 0 is no limit.
	MaxLatencyP99 time.Duration `json:"max_latency_p99_ns,omitempty"`
	// MinRequests is how many requests the new commit must have answered
	// in a step before its rates are judged.
	MinRequests int `json:"min_requests,omitempty"`
}

// Progressive reports whether r moves traffic in steps or holds the old
// commit for a while: anything but a plain, unwatched deploy.
func (r *Rollout) Progressive() bool {
	return r != nil && (r.Strategy != "" || r.Watch > 0)
}

// Analysis is the verdict of a progressive rollout that went back by
// itself or was aborted: where it stood and the figures that decided.
type Analysis struct {
	// Automatic is true when a threshold or a health check decided, false
	// when an operator aborted (slipway abort).
	Automatic bool `json:"automatic"`
	// Cause says what was crossed, e.g. "error rate 48.0% > 5.0%".
	Cause string `json:"cause"`
	// Step is the index in Rollout.Steps, Weight its share in percent.
	Step   int `json:"step"`
	Weight int `json:"weight"`
	// Canary and Stable are what the proxy measured of the new and the
	// old commit over the step.
	Canary ReleaseFigures `json:"canary"`
	Stable ReleaseFigures `json:"stable"`
	// Detected is how long the rollout ran before the verdict.
	Detected time.Duration `json:"detected_ns"`
}

// ReleaseFigures are the requests one release answered in a window.
type ReleaseFigures struct {
	Requests int64         `json:"requests"`
	Errors   int64         `json:"errors"`
	P99      time.Duration `json:"p99_ns"`
}
