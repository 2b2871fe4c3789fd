package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
)

// flakyLease fails Complete with each error of fails in turn, then succeeds.
type flakyLease struct {
	fails []error
	calls int
}

func (l *flakyLease) Renew(context.Context) error   { return nil }
func (l *flakyLease) Release(context.Context) error { return nil }
func (l *flakyLease) Complete(context.Context, []byte) error {
	l.calls++
	if l.calls <= len(l.fails) {
		return l.fails[l.calls-1]
	}
	return nil
}

// TestCompleteLease is a table test of the retry policy of recording a
// finished step (the NATS-kill fault test holds it against real NATS): a
// store that does not answer for a moment is tried again within the bound,
// a lost lease or a permanent error ends it at once.
func TestCompleteLease(t *testing.T) {
	down := errors.New("nats: timeout")
	tests := []struct {
		name      string
		fails     []error
		within    time.Duration
		wantErr   error
		wantCalls int
	}{
		{"stored at once", nil, time.Second, nil, 1},
		{"store back after two tries", []error{down, down}, 5 * time.Second, nil, 3},
		{"lease lost", []error{workflows.ErrLeaseLost}, 5 * time.Second, workflows.ErrLeaseLost, 1},
		{"permanent", []error{events.Permanent(down)}, 5 * time.Second, down, 1},
		{"store away past the bound", []error{down, down, down, down, down, down, down, down}, 250 * time.Millisecond, down, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &flakyLease{fails: tt.fails}
			err := workflows.CompleteLease(context.Background(), l, []byte(`{}`), tt.within)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("CompleteLease() = %v, want %v", err, tt.wantErr)
			}
			if l.calls != tt.wantCalls {
				t.Errorf("Complete called %d times, want %d", l.calls, tt.wantCalls)
			}
		})
	}
}
