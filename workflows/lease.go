package workflows

import (
	"context"
	"time"

	"github.com/rs/zerolog"
)

// KeepLease renews lease every interval until the returned stop is called.
// A failed renewal is logged; the step goes on, and another worker may take
// it over once the lease expires.
func KeepLease(ctx context.Context, lease Lease, interval time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := lease.Renew(ctx); err != nil && ctx.Err() == nil {
					zerolog.Ctx(ctx).Warn().Err(err).Msg("lease renewal failed")
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}
