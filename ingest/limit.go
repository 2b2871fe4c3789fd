package ingest

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"time"
)

// errOverBudget is the read error of a body that would take the bytes held
// by the bodies being read past Config.MaxBytesInFlight.
var errOverBudget = errors.New("bytes in flight over budget")

// limiter bounds how many deliveries the handler holds at once and how many
// body bytes they hold together, so that slow or held uploads cost a fixed
// amount of memory however many connections send them.
type limiter struct {
	slots  chan struct{}
	wait   time.Duration
	budget int64
	bytes  atomic.Int64 // body bytes held by the deliveries in slots
}

func newLimiter(cfg Config) *limiter {
	return &limiter{slots: make(chan struct{}, cfg.MaxConcurrentBodies), wait: cfg.QueueWait, budget: cfg.MaxBytesInFlight}
}

// acquire takes a slot, waiting at most the queue wait for one.
func (l *limiter) acquire(ctx context.Context) bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

func (l *limiter) release() { <-l.slots }

// fits reports whether n more bytes fit the budget now.
func (l *limiter) fits(n int64) bool { return l.bytes.Load()+n <= l.budget }

// held returns how many deliveries hold a slot.
func (l *limiter) held() int { return len(l.slots) }

// budgetReader counts the bytes read from r against the limiter's budget;
// a read taking it over the budget fails with errOverBudget. done returns
// the bytes to the budget.
type budgetReader struct {
	r io.Reader
	l *limiter
	n int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.n += int64(n)
		if b.l.bytes.Add(int64(n)) > b.l.budget {
			return n, errOverBudget
		}
	}
	return n, err
}

func (b *budgetReader) done() { b.l.bytes.Add(-b.n) }
