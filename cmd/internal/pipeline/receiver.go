package pipeline

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/slipway-dev/slipway/ingest"
)

// ReceiverLimits bound what the webhook receiver's connections may hold:
// how long a request and an idle connection may last, how many deliveries
// are read at once and how many body bytes they hold together.
type ReceiverLimits struct {
	// ReadTimeout bounds reading a whole request, headers and body: a
	// client sending slowly is cut off after it.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the
	// end of the answer; it covers reading the body and publishing.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle that long.
	IdleTimeout time.Duration
	// MaxConcurrentBodies and MaxBytesInFlight are ingest.Config's.
	MaxConcurrentBodies int
	MaxBytesInFlight    int64
}

// DefaultReceiverLimits returns limits no git host comes near: GitHub
// gives up on a delivery after 10 s.
func DefaultReceiverLimits() ReceiverLimits {
	return ReceiverLimits{
		ReadTimeout:         30 * time.Second,
		WriteTimeout:        45 * time.Second,
		IdleTimeout:         60 * time.Second,
		MaxConcurrentBodies: ingest.DefaultMaxConcurrentBodies,
		MaxBytesInFlight:    ingest.DefaultMaxBytesInFlight,
	}
}

// Bind binds the limits to fs.
func (l *ReceiverLimits) Bind(fs *flag.FlagSet) {
	fs.DurationVar(&l.ReadTimeout, "http-read-timeout", l.ReadTimeout, "longest time to read a webhook request, body included; a slower client is cut off")
	fs.DurationVar(&l.WriteTimeout, "http-write-timeout", l.WriteTimeout, "longest time from a webhook request's headers to the end of its answer")
	fs.DurationVar(&l.IdleTimeout, "http-idle-timeout", l.IdleTimeout, "how long an idle keep-alive connection to the receiver stays open")
	fs.IntVar(&l.MaxConcurrentBodies, "max-concurrent-bodies", l.MaxConcurrentBodies, "webhook deliveries read at once; more wait a second, then get 503 with Retry-After")
	fs.Int64Var(&l.MaxBytesInFlight, "max-bytes-in-flight", l.MaxBytesInFlight, "body bytes the deliveries being read may hold together (at least -max-body-bytes); past it 503 with Retry-After")
}

// Validate reports every unusable limit at once.
func (l ReceiverLimits) Validate() error {
	var errs []error
	if l.ReadTimeout <= 0 || l.WriteTimeout <= 0 || l.IdleTimeout <= 0 {
		errs = append(errs, fmt.Errorf("http read, write and idle timeouts %s, %s, %s: must be positive", l.ReadTimeout, l.WriteTimeout, l.IdleTimeout))
	}
	if l.MaxConcurrentBodies < 1 || l.MaxBytesInFlight < 1 {
		errs = append(errs, fmt.Errorf("max concurrent bodies %d, max bytes in flight %d: must be positive", l.MaxConcurrentBodies, l.MaxBytesInFlight))
	}
	return errors.Join(errs...)
}
