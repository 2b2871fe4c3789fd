package docker

import (
	"fmt"

	"github.com/docker/docker/api/types/container"

	"github.com/slipway-dev/slipway/events"
)

// stoppedFromOutside returns a retryable error when a candidate exited
// because something outside it stopped it: killed by SIGTERM (exit 143) or
// SIGKILL (137, not for lack of memory). Slipway never stops a candidate it
// waits for, so that is the daemon shutting down (a restart of dockerd stops
// every container) or an operator, not the commit's fault: the deploy is
// retried instead of being recorded as failed.
func stoppedFromOutside(name string, info container.InspectResponse) error {
	s := info.State
	if s == nil || s.Running || s.OOMKilled || (s.ExitCode != 128+15 && s.ExitCode != 128+9) {
		return nil
	}
	return events.Retryable(fmt.Errorf("container %s was stopped from outside (exit code %d): dockerd shutting down?", name, s.ExitCode), retryAfter)
}
