package docker

import (
	"testing"

	"github.com/docker/docker/api/types/container"

	"github.com/slipway-dev/slipway/events"
)

func TestStoppedFromOutside(t *testing.T) {
	tests := []struct {
		name      string
		state     container.State
		wantRetry bool
	}{
		{"running", container.State{Running: true}, false},
		{"crashed", container.State{ExitCode: 1}, false},
		{"SIGTERM (daemon shutting down)", container.State{ExitCode: 143}, true},
		{"SIGKILL", container.State{ExitCode: 137}, true},
		{"out of memory", container.State{ExitCode: 137, OOMKilled: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.state
			err := stoppedFromOutside("c", container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{State: &st}})
			if got := err != nil && !events.IsPermanent(err); got != tt.wantRetry {
				t.Errorf("stoppedFromOutside() = %v, want retryable %v", err, tt.wantRetry)
			}
		})
	}
}
