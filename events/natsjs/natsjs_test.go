package natsjs_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

func push() *events.PushReceived {
	return &events.PushReceived{
		Repo: events.Repo{Forge: "github", FullName: "acme/shop", CloneURL: "http://127.0.0.1/acme/shop.git", DefaultBranch: "main"},
		Ref:  "refs/heads/main", Branch: "main", After: sha,
	}
}

func TestPublishCarriesCloudEventsAndDeduplicates(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := context.Background()
	p := natsjs.NewPublisher(js, "/slipway/test")

	for i, wantDup := range []bool{false, true, true} {
		dup, err := p.Publish(ctx, push())
		if err != nil {
			t.Fatal(err)
		}
		if dup != wantDup {
			t.Errorf("publish %d: duplicate = %v, want %v", i, dup, wantDup)
		}
	}
	stream, err := js.Stream(ctx, natsjs.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := stream.GetLastMsgForSubject(ctx, events.SubjectPushReceived)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ce-specversion": "1.0",
		"ce-id":          push().DedupKey(),
		"ce-type":        events.TypePushReceived,
		"ce-source":      "/slipway/test",
		"ce-subject":     "acme/shop@" + sha,
		"Nats-Msg-Id":    push().DedupKey(),
	}
	for k, v := range want {
		if got := msg.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, msg.Header.Get("ce-time")); err != nil {
		t.Errorf("ce-time: %v", err)
	}
	info, _ := stream.Info(ctx)
	if info.State.Msgs != 1 {
		t.Errorf("stream holds %d messages, want 1", info.State.Msgs)
	}
}

func TestProvisionIsIdempotent(t *testing.T) {
	s := natsjs.MustServerWith(t, testTopology())
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	for i := 0; i < 2; i++ {
		if err := natsjs.Provision(context.Background(), js, testTopology()); err != nil {
			t.Fatalf("provision %d: %v", i, err)
		}
	}
}

// TestRunnerPolicy runs handlers through watermill on real consumers:
// success and permanent errors are acknowledged once, other errors are
// redelivered.
func TestRunnerPolicy(t *testing.T) {
	s := natsjs.MustServerWith(t, testTopology())
	nc, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := natsjs.NewPublisher(js, "/slipway/test")

	var calls atomic.Int32
	handled := make(chan int32, 10)
	h := natsjs.Typed(func(ctx context.Context, e *events.PushReceived) error {
		n := calls.Add(1)
		handled <- n
		if n == 1 {
			return errors.New("transient")
		}
		return events.Permanent(errors.New("bad input"))
	})
	r := &natsjs.Runner{
		Connect: func() (*nats.Conn, error) { return natsjs.Connect(s.ClientURL(), "runner") },
		Conn:    nc, Log: zerolog.Nop(), AckWait: 30 * time.Second, CloseTimeout: 5 * time.Second,
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, natsjs.Route{Consumer: consumerPush, Handler: h}) }()
	if _, err := p.Publish(ctx, push()); err != nil {
		t.Fatal(err)
	}
	for want := int32(1); want <= 2; want++ {
		select {
		case n := <-handled:
			if n != want {
				t.Fatalf("call %d, want %d", n, want)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("handler call %d never came", want)
		}
	}
	select {
	case n := <-handled:
		t.Fatalf("permanent failure was redelivered (call %d)", n)
	case <-time.After(2500 * time.Millisecond):
	}
	c, err := js.Consumer(ctx, natsjs.StreamName, consumerPush)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumAckPending != 0 || info.NumPending != 0 {
		t.Errorf("consumer: %d pending, %d awaiting ack; want 0, 0", info.NumPending, info.NumAckPending)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestRunnerRedeliversAfterRetryableDelay runs handlers that fail once
// through watermill on a real consumer and measures when JetStream delivers
// the message again: after the RetryableError's After, or after the default
// backoff (1s for a first failure) for any other error.
func TestRunnerRedeliversAfterRetryableDelay(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		min, max time.Duration
	}{
		{"retryable after 2s", events.Retryable(errors.New("buildkitd away"), 2*time.Second), 2 * time.Second, 3500 * time.Millisecond},
		{"plain error", errors.New("transient"), time.Second, 1900 * time.Millisecond},
		{"retryable without a delay", events.Retryable(errors.New("transient"), 0), time.Second, 1900 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gap := redeliveryGap(t, tt.err)
			if gap < tt.min || gap > tt.max {
				t.Errorf("redelivered %s after the failure, want between %s and %s", gap, tt.min, tt.max)
			}
		})
	}
}

// redeliveryGap publishes one event to a handler that fails with err the
// first time, and returns how long after that failure it came again.
func redeliveryGap(t *testing.T, err error) time.Duration {
	t.Helper()
	s := natsjs.MustServerWith(t, testTopology())
	nc, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	failed, again := make(chan time.Time, 1), make(chan time.Time, 1)
	var calls atomic.Int32
	h := natsjs.Typed(func(ctx context.Context, e *events.PushReceived) error {
		if calls.Add(1) == 1 {
			failed <- time.Now()
			return err
		}
		again <- time.Now()
		return nil
	})
	r := &natsjs.Runner{
		Connect: func() (*nats.Conn, error) { return natsjs.Connect(s.ClientURL(), "runner") },
		Conn:    nc, Log: zerolog.Nop(), AckWait: 30 * time.Second, CloseTimeout: 5 * time.Second,
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, natsjs.Route{Consumer: consumerPush, Handler: h}) }()
	if _, err := natsjs.NewPublisher(js, "/slipway/test").Publish(ctx, push()); err != nil {
		t.Fatal(err)
	}
	var gap time.Duration
	select {
	case at := <-again:
		gap = at.Sub(<-failed)
	case <-time.After(15 * time.Second):
		t.Fatal("the failed message was never delivered again")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return gap
}
