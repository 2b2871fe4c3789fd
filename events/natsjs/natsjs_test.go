package natsjs_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/workflows"
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
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	for i := 0; i < 2; i++ {
		if err := natsjs.Provision(context.Background(), js, natsjs.DefaultTopology()); err != nil {
			t.Fatalf("provision %d: %v", i, err)
		}
	}
}

func mustClaims(t *testing.T, js jetstream.JetStream, holder string) *natsjs.Claims {
	t.Helper()
	kv, err := js.KeyValue(context.Background(), natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	return natsjs.NewClaims(kv, holder)
}

func TestClaims(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := context.Background()
	a, b := mustClaims(t, js, "a"), mustClaims(t, js, "b")

	lease, err := a.Claim(ctx, "k1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Claim(ctx, "k1", time.Minute); !errors.Is(err, workflows.ErrClaimHeld) {
		t.Fatalf("second holder: err = %v, want ErrClaimHeld", err)
	}
	// A second delivery of the same message to the same process (NATS
	// redelivers while the first still runs) is held off too.
	if _, err := a.Claim(ctx, "k1", time.Minute); !errors.Is(err, workflows.ErrClaimHeld) {
		t.Fatalf("same process, second delivery: err = %v, want ErrClaimHeld", err)
	}
	if _, err := b.Result(ctx, "k1"); !errors.Is(err, workflows.ErrNoResult) {
		t.Fatalf("result while running: err = %v, want ErrNoResult", err)
	}
	if err := lease.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	if err := lease.Complete(ctx, []byte(`{"digest":"sha256:1"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Claim(ctx, "k1", time.Minute); !errors.Is(err, events.ErrAlreadyDone) {
		t.Fatalf("after completion: err = %v, want ErrAlreadyDone", err)
	}
	got, err := b.Result(ctx, "k1")
	if err != nil || string(got) != `{"digest":"sha256:1"}` {
		t.Fatalf("Result() = %s, %v", got, err)
	}

	// A released claim can be taken again.
	l2, err := a.Claim(ctx, "k2", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := l2.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Claim(ctx, "k2", time.Minute); err != nil {
		t.Fatalf("claim after release: %v", err)
	}

	// An expired lease (its holder died) is taken over, and the dead
	// holder can no longer complete.
	dead, err := a.Claim(ctx, "k3", 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	if _, err := b.Claim(ctx, "k3", time.Minute); err != nil {
		t.Fatalf("take over expired lease: %v", err)
	}
	if err := dead.Complete(ctx, nil); err == nil {
		t.Fatal("the dead holder completed a claim taken over by another")
	}
}

func TestClaimsRaceHasOneWinner(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		c := mustClaims(t, js, string(rune('a'+i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Claim(context.Background(), "race", time.Minute); err == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d workers won the claim, want 1", wins.Load())
	}
}

// TestRunnerPolicy runs handlers through watermill on real consumers:
// success and permanent errors are acknowledged once, other errors are
// redelivered.
func TestRunnerPolicy(t *testing.T) {
	s := natsjs.MustServer(t)
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
	go func() { done <- r.Run(ctx, natsjs.Route{Consumer: natsjs.ConsumerPush, Handler: h}) }()
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
	c, err := js.Consumer(ctx, natsjs.StreamName, natsjs.ConsumerPush)
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

// TestKeepLeaseStopsTheStepWhenTheLeaseIsLost: a worker whose lease expired
// (it could not renew in time) and was taken over has its step's context
// cancelled with ErrLeaseLost at its next renewal, so it does not go on
// alongside the worker that took over.
func TestKeepLeaseStopsTheStepWhenTheLeaseIsLost(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := context.Background()
	a, b := mustClaims(t, js, "a"), mustClaims(t, js, "b")

	kept, err := a.Claim(ctx, "kept", 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	work, stop := workflows.KeepLease(ctx, kept, 50*time.Millisecond)
	time.Sleep(600 * time.Millisecond) // renewed meanwhile: still ours
	if work.Err() != nil {
		t.Fatalf("renewed lease: step context ended: %v", context.Cause(work))
	}
	if _, err := b.Claim(ctx, "kept", time.Minute); !errors.Is(err, workflows.ErrClaimHeld) {
		t.Fatalf("renewed lease taken: err = %v, want ErrClaimHeld", err)
	}
	stop()

	lost, err := a.Claim(ctx, "lost", 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // expired: its holder was cut off
	if _, err := b.Claim(ctx, "lost", time.Minute); err != nil {
		t.Fatalf("take over expired lease: %v", err)
	}
	work, stop = workflows.KeepLease(ctx, lost, 20*time.Millisecond)
	defer stop()
	select {
	case <-work.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("step context still live after its lease was taken over")
	}
	if cause := context.Cause(work); !errors.Is(cause, workflows.ErrLeaseLost) {
		t.Fatalf("cause = %v, want ErrLeaseLost", cause)
	}
	if err := workflows.LeaseErr(work, work.Err()); !errors.Is(err, workflows.ErrLeaseLost) {
		t.Fatalf("LeaseErr = %v, want it to wrap ErrLeaseLost", err)
	}
}
