package natsjs_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// TestDeadLetters: an event that fails MaxDeliver times lands in SLIPWAY_DLQ
// with where it came from; retrying it publishes it again under a new id,
// which the consumer then handles, and removes it from the DLQ.
func TestDeadLetters(t *testing.T) {
	topo := testTopology()
	topo.MaxDeliver, topo.AckWait = 2, time.Second
	s := natsjs.MustServerWith(t, topo)
	nc, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var healthy atomic.Bool
	seen := make(chan string, 10)
	h := natsjs.Typed(func(ctx context.Context, e *events.PushReceived) error {
		if !healthy.Load() {
			return errors.New("buildkitd unreachable")
		}
		return nil
	})
	r := &natsjs.Runner{
		Connect: func() (*nats.Conn, error) { return natsjs.Connect(s.ClientURL(), "runner") },
		Conn:    nc, Log: zerolog.Nop(), AckWait: topo.AckWait, CloseTimeout: 5 * time.Second,
	}
	go func() { _ = r.Run(ctx, natsjs.Route{Consumer: consumerPush, Handler: spy(h, seen)}) }()
	go func() { _ = natsjs.CopyDeadLetters(ctx, js, zerolog.Nop()) }()
	if _, err := natsjs.NewPublisher(js, "/test").Publish(ctx, push()); err != nil {
		t.Fatal(err)
	}

	var (
		dead []natsjs.DeadLetter
		err  error
	)
	for deadline := time.Now().Add(20 * time.Second); len(dead) == 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no dead letter after 20s")
		}
		if dead, err = natsjs.DeadLetters(ctx, js); err != nil {
			t.Fatal(err)
		}
	}
	d := dead[0]
	if len(dead) != 1 || d.Consumer != consumerPush || d.Deliveries != 2 || d.Subject != events.SubjectPushReceived ||
		d.ID != push().DedupKey() || d.Type != events.TypePushReceived || d.StreamSeq != 1 {
		t.Fatalf("dead letters: %+v", dead)
	}
	healthy.Store(true)
	id, err := natsjs.RetryDeadLetter(ctx, js, d.Seq)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.After(10 * time.Second); ; {
		select {
		case got := <-seen:
			if got != id {
				continue // one of the failed deliveries
			}
		case <-deadline:
			t.Fatalf("retried event %s never handled", id)
		}
		break
	}
	if !strings.HasPrefix(id, push().DedupKey()+".retry-") {
		t.Errorf("retried under id %q", id)
	}
	if n, err := natsjs.CountDeadLetters(ctx, js); err != nil || n != 0 {
		t.Errorf("%d dead letters left (%v), want 0", n, err)
	}
}

func spy(h natsjs.HandlerFunc, seen chan<- string) natsjs.HandlerFunc {
	return func(ctx context.Context, env events.Envelope) error {
		seen <- env.ID
		return h(ctx, env)
	}
}
