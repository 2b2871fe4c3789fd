package pipeline

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/slipway-dev/slipway/events/natsjs"
)

// withDeadLetters runs fn beside the dead-letter copier (every builder and
// deployer runs one; JetStream gives each advisory to one of them) until ctx
// ends or either fails.
func (c *Conn) withDeadLetters(ctx context.Context, fn func(context.Context) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return natsjs.CopyDeadLetters(ctx, c.JS, *logger(ctx)) })
	g.Go(func() error { return fn(ctx) })
	return g.Wait()
}
