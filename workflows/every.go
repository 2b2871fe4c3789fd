package workflows

import (
	"context"
	"time"
)

// Every calls fn each interval, the first time one interval from now,
// until ctx ends, and then returns nil: the loop of the periodic jobs
// (reconciling previews, ending expired freezes, retrying notifications).
// A call that is running when ctx ends is waited for; none starts after.
func Every(ctx context.Context, interval time.Duration, fn func(ctx context.Context)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if ctx.Err() != nil {
			return nil
		}
		fn(ctx)
	}
}
