package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
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

// RunClaimed runs step once for key: it claims key for ttl and runs step in
// a context that lives while the lease is renewed (KeepLease, every ttl/3).
// A claim another worker holds is events.Retryable after ttl/2; a step
// done before returns Claim's error, which wraps events.ErrAlreadyDone,
// without running step. When step fails and its error is not
// events.Permanent, the lease is released for a retry and nil is returned
// with the error. Otherwise the lease is returned still held, with step's
// error (nil or permanent), for the caller to record the result
// (Lease.Complete).
func RunClaimed(ctx context.Context, claims Claims, key string, ttl time.Duration, step func(ctx context.Context) error) (Lease, error) {
	lease, err := claims.Claim(ctx, key, ttl)
	switch {
	case errors.Is(err, ErrClaimHeld):
		return nil, events.Retryable(err, ttl/2)
	case err != nil:
		return nil, err
	}
	work, stop := KeepLease(ctx, lease, ttl/3)
	err = LeaseErr(work, step(work))
	stop()
	if err != nil && !events.IsPermanent(err) {
		return nil, errors.Join(err, lease.Release(context.WithoutCancel(ctx)))
	}
	return lease, err
}

// CompleteLease records the step done with result (Lease.Complete), trying
// again for up to within while the claims store does not answer (NATS away
// for a moment): the lease is still this worker's for a while after its last
// renewal, and giving up at once would leave a finished step to be done
// again on redelivery (a build solved twice). within must stay below the
// time the lease has left, e.g. half its ttl when it is renewed every
// third. A lost lease, or a permanent error, ends it at once.
func CompleteLease(ctx context.Context, lease Lease, result []byte, within time.Duration) error {
	deadline := time.Now().Add(within)
	pause := 100 * time.Millisecond
	for {
		err := lease.Complete(ctx, result)
		if err == nil || errors.Is(err, ErrLeaseLost) || events.IsPermanent(err) || !time.Now().Add(pause).Before(deadline) {
			return err
		}
		zerolog.Ctx(ctx).Warn().Err(err).Dur("retry_in", pause).Msg("recording a finished step failed; trying again while the lease holds")
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}
