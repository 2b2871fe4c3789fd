package events

import (
	"errors"
	"fmt"
	"time"
)

// Errors carry their policy. The messaging edge (events/natsjs) is the only
// place that turns them into Ack, Nak or Term:
//
//   - a PermanentError is recorded and never retried (bad Dockerfile, bad
//     slipway.yaml, a health check that fails);
//   - a RetryableError is redelivered after its delay, After (buildkitd,
//     registry, dockerd or NATS unreachable); with After 0 it follows the
//     default backoff;
//   - any other error is treated as retryable with the default backoff.

// PermanentError wraps an error that no retry can fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as permanent. Permanent(nil) is nil, and an error
// already permanent is returned as it is (its message says so once).
func Permanent(err error) error {
	if err == nil || IsPermanent(err) {
		return err
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err, or an error it wraps, is permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// RetryableError wraps an error worth retrying after After: the consumer
// naks the message with After as the redelivery delay.
type RetryableError struct {
	Err   error
	After time.Duration
}

func (e *RetryableError) Error() string {
	return fmt.Sprintf("retryable after %s: %s", e.After, e.Err)
}
func (e *RetryableError) Unwrap() error { return e.Err }

// Retryable marks err as worth retrying after the given delay.
func Retryable(err error, after time.Duration) error {
	if err == nil {
		return nil
	}
	return &RetryableError{Err: err, After: after}
}

// IgnoredError is an input Slipway understood and chose not to act on (a ping,
// an event kind it does not handle). Webhook receivers answer it with 2xx and
// the reason so the git host does not retry.
type IgnoredError struct{ Reason string }

func (e *IgnoredError) Error() string { return "ignored: " + e.Reason }

// Ignored returns an IgnoredError with the reason.
func Ignored(format string, args ...any) error {
	return &IgnoredError{Reason: fmt.Sprintf(format, args...)}
}

// ErrAlreadyDone is returned when a step keyed on a commit has completed before:
// the caller acknowledges and does nothing.
var ErrAlreadyDone = errors.New("already done")
