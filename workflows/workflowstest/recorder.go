// Package workflowstest holds what the workflows' unit tests share.
package workflowstest

import (
	"context"
	"sync"

	"github.com/slipway-dev/slipway/events"
)

// Recorder is a publisher that keeps every event it is given, in order; it
// is safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	events []events.Event
}

// Publish records e; it is never a duplicate.
func (r *Recorder) Publish(_ context.Context, e events.Event) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return false, nil
}

// Events returns the events recorded so far.
func (r *Recorder) Events() []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]events.Event(nil), r.events...)
}

// Take returns the events recorded so far and forgets them.
func (r *Recorder) Take() []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// OfType returns the events recorded so far whose EventType is typ.
func (r *Recorder) OfType(typ string) []events.Event {
	var out []events.Event
	for _, e := range r.Events() {
		if e.EventType() == typ {
			out = append(out, e)
		}
	}
	return out
}

// Of returns the events of type E that r recorded so far.
func Of[E events.Event](r *Recorder) []E {
	var out []E
	for _, e := range r.Events() {
		if te, ok := e.(E); ok {
			out = append(out, te)
		}
	}
	return out
}
