package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events/natsjs"
)

// TestEnvHostsServesALabelClaimedElsewhere starts a proxy's host table on a
// real JetStream, then has another deployer (another connection) claim a
// repository's host label: the first request for that label finds it at once,
// as after a failover to a deployer that never served the repository, instead
// of a 404 until the background refresh.
func TestEnvHostsServesALabelClaimedElsewhere(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := natsjs.MustServerWith(t, Topology())
	proxyConn, err := Dial(ctx, srv.ClientURL(), "proxy-test", Topology())
	if err != nil {
		t.Fatal(err)
	}
	defer proxyConn.NC.Close()
	table, err := NewEnvHosts(ctx, proxyConn)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := table.Repo("shop"); ok {
		t.Fatal("label shop known before anyone claimed it")
	}
	other, err := Dial(ctx, srv.ClientURL(), "other-deployer", Topology())
	if err != nil {
		t.Fatal(err)
	}
	defer other.NC.Close()
	store, err := other.HostStore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(missRefresh) // the table is older than missRefresh, as any table is a moment after start
	if _, err := store.CreateLabel(ctx, "shop", "acme/shop"); err != nil {
		t.Fatal(err)
	}
	if repo, ok := table.Repo("shop"); !ok || repo != "acme/shop" {
		t.Errorf("Repo(shop) = %q, %v right after another deployer claimed it, want acme/shop", repo, ok)
	}
	if _, ok := table.Repo("nobody"); ok {
		t.Error("Repo(nobody) found a label nobody claimed")
	}
}
