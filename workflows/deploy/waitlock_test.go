package deploy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// TestWaitLock: the lock wait the deploy and the preview workflows share
// takes a free lock at once, takes a held one once its holder releases it,
// gives up as retryable after its wait, and stops when meanwhile says so.
func TestWaitLock(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, natsjs.BucketLocks)
	if err != nil {
		t.Fatal(err)
	}
	holder, waiter := natsstore.NewEnvLocks(kv, "holder"), natsstore.NewEnvLocks(kv, "waiter")
	held, err := deploy.WaitLock(ctx, holder, repo.FullName, "stg", time.Minute, 0, 10*time.Millisecond, nil)
	if err != nil {
		t.Fatalf("free lock: %v", err)
	}

	_, err = deploy.WaitLock(ctx, waiter, repo.FullName, "stg", time.Minute, 200*time.Millisecond, 20*time.Millisecond, nil)
	var re *events.RetryableError
	if !errors.As(err, &re) || re.After != 30*time.Second || !errors.Is(err, workflows.ErrClaimHeld) {
		t.Fatalf("held lock past the wait: %v, want retryable after ttl/2 = 30s", err)
	}

	stop := errors.New("overtaken")
	calls := 0
	_, err = deploy.WaitLock(ctx, waiter, repo.FullName, "stg", time.Minute, time.Minute, 10*time.Millisecond, func() error {
		if calls++; calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Fatalf("meanwhile's error after %d calls: %v, want %v after 3", calls, err, stop)
	}

	got := make(chan error, 1)
	go func() {
		lease, err := deploy.WaitLock(ctx, waiter, repo.FullName, "stg", time.Minute, time.Minute, 10*time.Millisecond, nil)
		if err == nil {
			err = lease.Release(ctx)
		}
		got <- err
	}()
	if err := held.Release(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("lock released by its holder: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the lock was not taken after its holder released it")
	}
}
