package natsstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/canary"
)

// TestCanaryStoreRoles: the deployer (controller and proxy) writes and
// reads splits, counts and commands, the operator (admin) sends a command;
// the builder may not even open the bucket. Counts of two proxies add up.
func TestCanaryStoreRoles(t *testing.T) {
	srv, keys := natsjs.MustAuthServer(t, natsjs.DefaultTopology())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	open := func(r natsjs.Role) *natsstore.CanaryStore {
		_, js := natsjs.MustRoleJetStream(t, srv.ClientURL(), keys, r)
		kv, err := js.KeyValue(ctx, natsjs.BucketCanary)
		if err != nil {
			t.Fatalf("%s: open %s: %v", r, natsjs.BucketCanary, err)
		}
		return natsstore.NewCanaryStore(kv)
	}
	deployer, admin := open(natsjs.RoleDeployer), open(natsjs.RoleAdmin)
	sp := canary.Split{Shadow: canary.ShadowEnv("prod"), Commit: "abc", Weight: 50, Step: 1}
	if err := deployer.PutSplit(ctx, "Acme/Shop", "prod", sp); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := deployer.Split(ctx, "Acme/Shop", "prod"); err != nil || !ok || got != sp {
		t.Fatalf("split = %+v %v %v", got, ok, err)
	}
	var one canary.Counts
	one.Observe(500, time.Millisecond)
	for _, id := range []string{"proxy/a", "proxy/b"} {
		if err := deployer.PutStats(ctx, "Acme/Shop", "prod", id, canary.Stats{Canary: one, Stable: one}); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := deployer.Stats(ctx, "Acme/Shop", "prod"); err != nil || st.Canary.Requests != 2 || st.Stable.Errors != 2 {
		t.Errorf("stats of two proxies = %+v (%v), want 2 each", st, err)
	}
	if err := admin.Command(ctx, "Acme/Shop", "prod", canary.CommandAbort); err != nil {
		t.Fatal(err)
	}
	if cmd, err := deployer.TakeCommand(ctx, "Acme/Shop", "prod"); err != nil || cmd != canary.CommandAbort {
		t.Errorf("command = %q (%v)", cmd, err)
	}
	_, bjs := natsjs.MustRoleJetStream(t, srv.ClientURL(), keys, natsjs.RoleBuilder)
	bctx, bcancel := context.WithTimeout(ctx, 2*time.Second)
	defer bcancel()
	if _, err := bjs.KeyValue(bctx, natsjs.BucketCanary); err == nil {
		t.Error("the builder opened the bucket of splits")
	}
	if err := deployer.DeleteSplit(ctx, "Acme/Shop", "prod"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := deployer.Split(ctx, "Acme/Shop", "prod"); ok || err != nil {
		t.Errorf("split after delete: %v %v", ok, err)
	}
}
