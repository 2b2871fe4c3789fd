package workflows_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/workflows"
)

// TestEvery: the job runs once per interval, not at once, and Every
// returns nil when its context ends.
func TestEvery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const interval = 20 * time.Millisecond
	var calls atomic.Int64
	start := time.Now()
	var first atomic.Int64 // nanoseconds from start to the first call
	done := make(chan error, 1)
	go func() {
		done <- workflows.Every(ctx, interval, func(context.Context) {
			if calls.Add(1) == 1 {
				first.Store(int64(time.Since(start)))
			}
		})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for calls.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls in 10s, want 3 at an interval of %s", calls.Load(), interval)
		}
		time.Sleep(time.Millisecond)
	}
	if d := time.Duration(first.Load()); d < interval {
		t.Errorf("first call after %s, want one interval (%s) first", d, interval)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Every returned %v, want nil when its context ends", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Every did not return when its context ended")
	}
}
