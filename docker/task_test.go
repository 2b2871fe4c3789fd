package docker_test

import (
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
)

// TestRunTask runs deployment tasks from an image on the real daemon: the
// output comes back with the exit code, the service's environment is set,
// a task past its timeout is killed, and no container is left.
func TestRunTask(t *testing.T) {
	f := MustFixture(t, fastOptions())
	d := f.deployment(dockertest.RandomCommit(), web(f.serve))
	img := d.Images[0]
	tests := []struct {
		name     string
		task     events.Task
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"succeeds", events.Task{Name: "migrate", Command: []string{"sh", "-c", "echo migrating $SLIPWAY_SERVICE in $SLIPWAY_ENV at $SLIPWAY_COMMIT with $GREETING by $SLIPWAY_TASK"}},
			0, "migrating web in " + f.env + " at " + d.Commit + " with hi by migrate", ""},
		{"fails", events.Task{Name: "broken", Command: []string{"sh", "-c", "echo no database >&2; exit 3"}}, 3, "no database", ""},
		{"times out", events.Task{Name: "slow", Command: []string{"sleep", "30"}, Timeout: time.Second}, -1, "", "still running after 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			out, code, err := f.t.RunTask(f.ctx, d, img, tt.task)
			if tt.wantErr != "" {
				if !events.IsPermanent(err) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want permanent %q", err, tt.wantErr)
				}
				if took := time.Since(start); took > 20*time.Second {
					t.Errorf("a 1s timeout took %s", took)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) {
				t.Errorf("RunTask() = %q, %d; want %d with %q", out, code, tt.wantCode, tt.wantOut)
			}
		})
	}
	list, err := f.cli.ContainerList(f.ctx, containerListAll(docker.LabelTaskEnv+"="+f.env))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Errorf("%d task containers left", len(list))
	}
	if cs := f.containers(t); len(cs) != 0 {
		t.Errorf("tasks made containers of the environment: %v", names(cs))
	}
}

func containerListAll(label string) container.ListOptions {
	return container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", label))}
}
