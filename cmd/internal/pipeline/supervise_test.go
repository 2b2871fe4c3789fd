package pipeline

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunComponentsContainsPanics checks that a component panicking is
// restarted alone while the others keep running, and that a component's
// error still stops every one.
func TestRunComponentsContainsPanics(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var starts atomic.Int32
	restarted := make(chan struct{})
	steadyStopped := make(chan struct{})
	errStop := errors.New("stop")
	err := runComponents(ctx, map[string]func(context.Context) error{
		"flaky": func(ctx context.Context) error {
			if starts.Add(1) == 1 {
				panic("boom") // as a runtime error would
			}
			close(restarted)
			<-ctx.Done()
			return ctx.Err()
		},
		"steady": func(ctx context.Context) error {
			select {
			case <-restarted:
			case <-ctx.Done():
				close(steadyStopped)
				return ctx.Err()
			}
			return errStop
		},
	})
	select {
	case <-steadyStopped:
		t.Fatal("the steady component was stopped by the other's panic")
	default:
	}
	if !errors.Is(err, errStop) || starts.Load() != 2 {
		t.Errorf("runComponents = %v after %d starts of the panicking component; want %v after 2", err, starts.Load(), errStop)
	}
}
