package pipeline

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"
)

// panicError is a component's panic, recovered.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// supervise runs a component of `slipway up` until ctx ends or it returns,
// restarting it after a growing pause (1 s doubling up to a minute) when it
// panics, so that a bug in one component (on its own goroutine) is logged
// and costs that component alone, not the others sharing the process. An
// error the component returns is returned, as before, and ends them all.
//
// Go cannot recover everything: a fatal error such as a stack overflow or a
// concurrent map write, and a panic on a goroutine the component started
// itself, still end the process. Those are prevented where they start: the
// webhook parsers refuse deep nesting before decoding (forge.MaxDepth),
// net/http recovers handler panics per connection, and watermill's router
// recovers (and Naks) those of event handlers.
func supervise(ctx context.Context, name string, run func(context.Context) error) error {
	pause := time.Second
	for {
		err := runRecovering(ctx, run)
		var p *panicError
		if !errors.As(err, &p) {
			return err
		}
		logger(ctx).Error().Str("component", name).Str("panic", fmt.Sprint(p.value)).
			Bytes("stack", p.stack).Dur("restart_in", pause).Msg("component panicked; restarting it")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Minute)
	}
}

func runRecovering(ctx context.Context, run func(context.Context) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return run(ctx)
}
