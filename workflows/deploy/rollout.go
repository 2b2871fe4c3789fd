package deploy

import (
	"errors"
	"fmt"

	"github.com/slipway-dev/slipway/events"
)

// RolledBackError is the reason a progressive rollout (events.Rollout)
// failed: it went back to the previous commit by itself, a threshold or a
// health check crossed, or an operator aborted it. The previous commit
// serves with every container it had. Targets return it wrapped in
// events.Permanent; the deploy's result carries its Analysis.
type RolledBackError struct {
	Analysis events.Analysis
}

// Error says what went back and why.
func (e *RolledBackError) Error() string {
	a := e.Analysis
	how := "aborted"
	if a.Automatic {
		how = "rolled back automatically"
	}
	return fmt.Sprintf("rollout %s at step %d (%d%%): %s; new commit %d/%d requests failed, p99 %s; previous commit %d/%d, p99 %s",
		how, a.Step+1, a.Weight, a.Cause, a.Canary.Errors, a.Canary.Requests, a.Canary.P99,
		a.Stable.Errors, a.Stable.Requests, a.Stable.P99)
}

// analysisOf returns the analysis of a rollout err reports, or nil.
func analysisOf(err error) *events.Analysis {
	var rb *RolledBackError
	if errors.As(err, &rb) {
		a := rb.Analysis
		return &a
	}
	return nil
}
