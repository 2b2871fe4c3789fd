package natsstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows"
)

// TestSuccessorTakesOverAtOnce: a live lease of a worker's predecessor
// (same identity, another boot) is taken over at once; one of the same
// boot, of another identity, or of a worker without identity is held.
func TestSuccessorTakesOverAtOnce(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := context.Background()
	dead := mustClaims(t, js, "builder/h/1/x").Succeeding("builder/w1", "boot-1")
	lease, err := dead.Claim(ctx, "k", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	held := []struct {
		name   string
		claims *natsstore.Claims
	}{
		{"same boot (another delivery in the same process)", mustClaims(t, js, "builder/h/1/x").Succeeding("builder/w1", "boot-1")},
		{"another identity", mustClaims(t, js, "builder/h/2/y").Succeeding("builder/w2", "boot-2")},
		{"no identity", mustClaims(t, js, "builder/h/3/z")},
	}
	for _, tt := range held {
		if _, err := tt.claims.Claim(ctx, "k", time.Hour); !errors.Is(err, workflows.ErrClaimHeld) {
			t.Errorf("%s: err = %v, want ErrClaimHeld", tt.name, err)
		}
	}
	succ := mustClaims(t, js, "builder/h/4/w").Succeeding("builder/w1", "boot-2")
	if _, err := succ.Claim(ctx, "k", time.Hour); err != nil {
		t.Fatalf("successor: %v, want the lease taken over before its expiry", err)
	}
	info, _, err := succ.Inspect(ctx, "k")
	if err != nil || info.Attempt != 2 || info.Holder == "" || !info.Expires.After(time.Now().Add(50*time.Minute)) {
		t.Errorf("after the takeover: %+v, %v; want attempt 2 under a fresh lease", info, err)
	}
	if err := lease.Renew(ctx); !errors.Is(err, workflows.ErrLeaseLost) {
		t.Errorf("predecessor's renewal: %v, want ErrLeaseLost", err)
	}
}

// TestSuccessorTakesOverTheDeployLock: the lock of an environment a dead
// predecessor held is the successor's at once.
func TestSuccessorTakesOverTheDeployLock(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, natsjs.BucketLocks)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := natsstore.NewEnvLocks(kv, "deployer/1").Succeeding("deployer/d1", "b1").Lock(ctx, "acme/shop", "staging", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := natsstore.NewEnvLocks(kv, "deployer/2").Lock(ctx, "acme/shop", "staging", time.Hour); !errors.Is(err, workflows.ErrClaimHeld) {
		t.Errorf("another deployer: %v, want ErrClaimHeld", err)
	}
	if _, err := natsstore.NewEnvLocks(kv, "deployer/3").Succeeding("deployer/d1", "b2").Lock(ctx, "acme/shop", "staging", time.Hour); err != nil {
		t.Errorf("successor: %v, want the lock", err)
	}
}
