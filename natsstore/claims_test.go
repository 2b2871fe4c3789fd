package natsstore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows"
)

func mustClaims(t *testing.T, js jetstream.JetStream, holder string) *natsstore.Claims {
	t.Helper()
	kv, err := js.KeyValue(context.Background(), natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	return natsstore.NewClaims(kv, holder)
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

// TestClaimsCountAttempts checks that a claim records how many leases were
// taken on its step, across releases (a retry after a failure), take-overs
// of an expired lease (its holder died) and completion.
func TestClaimsCountAttempts(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := context.Background()
	a, b := mustClaims(t, js, "a"), mustClaims(t, js, "b")
	want := func(step string, state string, attempt int, holder string) {
		t.Helper()
		info, ok, err := b.Inspect(ctx, "k")
		if err != nil || !ok {
			t.Fatalf("%s: Inspect() = %+v, %v, %v", step, info, ok, err)
		}
		if info.State != state || info.Attempt != attempt || !strings.HasPrefix(info.Holder, holder+"#") {
			t.Errorf("%s: claim %s, attempt %d, held by %s; want %s, attempt %d, held by %s#…", step, info.State, info.Attempt, info.Holder, state, attempt, holder)
		}
	}
	if _, ok, err := b.Inspect(ctx, "k"); ok || err != nil {
		t.Fatalf("Inspect() of a step never claimed: ok %v, %v", ok, err)
	}
	first, err := a.Claim(ctx, "k", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want("claimed", "running", 1, "a")
	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	want("released", "released", 1, "a")
	retry, err := b.Claim(ctx, "k", 10*time.Millisecond)
	if err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	want("claimed again", "running", 2, "b")
	if err := first.Complete(ctx, nil); err == nil {
		t.Fatal("the released lease completed a claim taken by another")
	}
	// retry's holder dies: its lease expires and is taken over.
	var third workflows.Lease
	for deadline := time.Now().Add(5 * time.Second); third == nil; {
		if third, err = a.Claim(ctx, "k", time.Minute); err != nil && !errors.Is(err, workflows.ErrClaimHeld) || time.Now().After(deadline) {
			t.Fatalf("take over expired lease: %v", err)
		}
	}
	want("taken over", "running", 3, "a")
	if err := retry.Renew(ctx); !errors.Is(err, workflows.ErrLeaseLost) {
		t.Errorf("renew of the lease taken over: %v, want ErrLeaseLost", err)
	}
	if err := third.Complete(ctx, []byte(`{"digest":"sha256:1"}`)); err != nil {
		t.Fatal(err)
	}
	want("completed", "done", 3, "a")
	if _, err := b.Claim(ctx, "k", time.Minute); !errors.Is(err, events.ErrAlreadyDone) {
		t.Fatalf("after completion: err = %v, want ErrAlreadyDone", err)
	}
	want("claimed when done", "done", 3, "a")
}
