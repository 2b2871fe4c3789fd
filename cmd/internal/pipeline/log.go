package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// NewLogger builds the process's one logger.
func NewLogger(w io.Writer, level, format string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		return zerolog.Nop(), fmt.Errorf("log level %q: %w", level, err)
	}
	if w == nil {
		w = os.Stderr
	}
	if format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

// logger returns the logger carried by ctx.
func logger(ctx context.Context) *zerolog.Logger { return zerolog.Ctx(ctx) }

// logAsyncErrors logs what the server reports outside any request, such as
// a permissions violation, with the logger of ctx.
func logAsyncErrors(ctx context.Context) nats.Option {
	log := logger(ctx)
	return nats.ErrorHandler(func(nc *nats.Conn, sub *nats.Subscription, err error) {
		ev := log.Warn().Err(err).Str("conn", nc.Opts.Name)
		if sub != nil {
			ev = ev.Str("subject", sub.Subject)
		}
		ev.Msg("nats")
	})
}
