package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// TestDeadLetterCommands: an event that fails every delivery shows in
// `slipway status` and `slipway dlq list`; `slipway dlq retry` sends it again
// and empties the DLQ.
func TestDeadLetterCommands(t *testing.T) {
	topo := pipeline.Topology()
	topo.MaxDeliver, topo.AckWait = 2, time.Second
	s := natsjs.MustServerWith(t, topo)
	nc, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var fixed atomic.Bool
	handled := make(chan string, 8)
	r := &natsjs.Runner{
		Connect: func() (*nats.Conn, error) { return natsjs.Connect(s.ClientURL(), "runner") },
		Conn:    nc, Log: zerolog.Nop(), AckWait: topo.AckWait, CloseTimeout: 5 * time.Second,
	}
	go func() {
		_ = r.Run(ctx, natsjs.Route{Consumer: pipeline.ConsumerPush, Handler: func(_ context.Context, env events.Envelope) error {
			if !fixed.Load() {
				return errors.New("git host unreachable")
			}
			handled <- env.ID
			return nil
		}})
	}()
	go func() { _ = natsjs.CopyDeadLetters(ctx, js, zerolog.Nop()) }()
	push := &events.PushReceived{Repo: events.Repo{FullName: "acme/shop"}, Ref: "refs/heads/main", Branch: "main", After: strings.Repeat("a", 40)}
	if _, err := natsjs.NewPublisher(js, "/test").Publish(ctx, push); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), "DEAD LETTERS: 1"); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("status never showed the dead letter:\n%s", out.String())
		}
		out.Reset()
		if err := printDeadLetters(ctx, js, &out); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(out.String(), push.DedupKey()) || !strings.Contains(out.String(), pipeline.ConsumerPush) {
		t.Errorf("status:\n%s", out.String())
	}
	out.Reset()
	if err := listDeadLetters(ctx, js, &out, 0); err != nil || !strings.Contains(out.String(), push.DedupKey()) {
		t.Fatalf("dlq list: %v\n%s", err, out.String())
	}
	fixed.Store(true)
	out.Reset()
	if err := retryDeadLetters(ctx, js, &out, []string{"1"}); err != nil {
		t.Fatalf("dlq retry: %v", err)
	}
	select {
	case id := <-handled:
		if !strings.HasPrefix(id, push.DedupKey()+".retry-") {
			t.Errorf("retried as %q", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the retried event was never handled")
	}
	out.Reset()
	if err := listDeadLetters(ctx, js, &out, 0); err != nil || !strings.Contains(out.String(), "(no dead letters)") {
		t.Errorf("dlq list after retry: %v\n%s", err, out.String())
	}
}
