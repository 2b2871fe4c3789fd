package build_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
)

// stepError is a build failure naming its step, as buildkit.StepError.
type stepError struct {
	step   string
	output []string
}

func (e *stepError) Error() string                  { return "build: " + e.step + ": exit 2" }
func (e *stepError) FailedStep() (string, []string) { return e.step, e.output }

// TestBuildEventsCarryDurationAndFailingStep: a build's result event says
// when its solve started and how long it took; a failure names the failing
// step and its last lines, bounded and printable, and a redelivery
// republishes the same.
func TestBuildEventsCarryDurationAndFailingStep(t *testing.T) {
	var output []string
	for i := range 15 {
		output = append(output, fmt.Sprintf("line %d\x1b[31m", i))
	}
	tests := []struct {
		name string
		err  error
	}{
		{"succeeded", nil},
		{"failed", events.Permanent(fmt.Errorf("build web: %w", &stepError{step: "[2/3] RUN make", output: output}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, p := newHandler(t, sources, &builder{err: tt.err})
			req := requests()[0]
			before := time.Now().UTC()
			for range 2 {
				if err := h.HandleBuild(context.Background(), req); err != nil && !errors.Is(err, events.ErrAlreadyDone) && !events.IsPermanent(err) {
					t.Fatal(err)
				}
			}
			if tt.err == nil {
				got := p.OfType(events.TypeBuildSucceeded)
				if len(got) != 2 {
					t.Fatalf("%d build-succeeded events, want 2", len(got))
				}
				for _, e := range got {
					b := e.(*events.BuildSucceeded)
					if b.StartedAt.Before(before.Add(-time.Second)) || b.Duration <= 0 {
						t.Errorf("build succeeded at %s in %s, want a start and a duration", b.StartedAt, b.Duration)
					}
				}
				return
			}
			got := p.OfType(events.TypeBuildFailed)
			if len(got) == 0 {
				t.Fatal("no build-failed event")
			}
			f := got[0].(*events.BuildFailed)
			if f.Step != "[2/3] RUN make" || len(f.Output) != events.MaxFailedOutput || f.Duration <= 0 {
				t.Fatalf("build failed = step %q, %d lines, %s", f.Step, len(f.Output), f.Duration)
			}
			if f.Output[events.MaxFailedOutput-1] != "line 14 [31m" || strings.ContainsRune(strings.Join(f.Output, ""), 0x1b) {
				t.Errorf("output = %q, want the last lines without control characters", f.Output)
			}
		})
	}
}
