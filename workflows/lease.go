package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// ErrLeaseLost is returned by Lease.Renew when another worker took the step
// over: this worker's lease expired (it lost NATS for longer than the lease)
// and the step is no longer its own.
var ErrLeaseLost = errors.New("lease lost to another worker")

// KeepLease renews lease every interval until the returned stop is called,
// and returns the context the step runs in. A renewal that fails for a while
// (NATS unreachable) is logged and retried; once the lease is lost to another
// worker the context is cancelled with ErrLeaseLost as its cause, so that two
// workers never go on with one step.
func KeepLease(ctx context.Context, lease Lease, interval time.Duration) (context.Context, func()) {
	work, cancelWork := context.WithCancelCause(ctx)
	renew, stopRenew := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-renew.Done():
				return
			case <-t.C:
				err := lease.Renew(renew)
				switch {
				case err == nil || renew.Err() != nil:
				case errors.Is(err, ErrLeaseLost):
					zerolog.Ctx(ctx).Error().Err(err).Msg("lease lost: stopping the step")
					cancelWork(fmt.Errorf("%w: %w", ErrLeaseLost, err))
					return
				default:
					zerolog.Ctx(ctx).Warn().Err(err).Msg("lease renewal failed")
				}
			}
		}
	}()
	return work, func() {
		stopRenew()
		<-done
		cancelWork(nil)
	}
}

// LeaseErr adds to err the reason the step's context ended when it ended
// because its lease was lost.
func LeaseErr(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); err != nil && errors.Is(cause, ErrLeaseLost) && !errors.Is(err, ErrLeaseLost) {
		return fmt.Errorf("%w (%w)", err, cause)
	}
	return err
}
