package natskv

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/ingest"
)

var _ ingest.Deliveries = (*Deliveries)(nil)

// MustDeliveries opens the delivery store on the BucketDeliveries bucket of
// the server at url, on a connection of its own, and closes it when the test
// ends.
func MustDeliveries(tb testing.TB, url string) (*Deliveries, *nats.Conn) {
	tb.Helper()
	nc, js := natsjs.MustJetStream(tb, url)
	return mustDeliveriesOn(tb, js, natsjs.BucketDeliveries), nc
}

func mustDeliveriesOn(tb testing.TB, js jetstream.JetStream, bucket string) *Deliveries {
	tb.Helper()
	kv, err := js.KeyValue(context.Background(), bucket)
	if err != nil {
		tb.Fatal(err)
	}
	d, err := NewDeliveries(context.Background(), kv)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(d.Close)
	return d
}

// remembers reports whether d answers Seen for the delivery from memory.
func (d *Deliveries) remembers(forge, id string) bool {
	return d.current() && d.index.Load().has(natsjs.DeliveryKey(forge, id), time.Now())
}

// eventually fails the test unless cond holds within d.
func eventually(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %s", what, d)
		}
	}
}

func TestDeliveries(t *testing.T) {
	ctx := context.Background()
	d, _ := MustDeliveries(t, natsjs.MustServer(t).ClientURL())
	for _, id := range []string{"72d3162e-cc78-11e3-81ab-4c9367dc0958", "a b/c.d*>", strings.Repeat("x/", 300)} {
		if seen, err := d.Seen(ctx, "github", id); err != nil || seen {
			t.Fatalf("Seen(%.20q) before Record = %v, %v", id, seen, err)
		}
		if err := d.Record(ctx, "github", id); err != nil {
			t.Fatalf("Record(%.20q) = %v", id, err)
		}
		if seen, err := d.Seen(ctx, "github", id); err != nil || !seen || !d.remembers("github", id) {
			t.Fatalf("Seen(%.20q) after Record = %v, %v (from memory: %v)", id, seen, err, d.remembers("github", id))
		}
		if seen, _ := d.Seen(ctx, "gitlab", id); seen {
			t.Errorf("a delivery of github is seen for gitlab")
		}
	}
}

// TestDeliveriesLoad checks that a store opened on a bucket holding
// deliveries knows them before it returns.
func TestDeliveriesLoad(t *testing.T) {
	ctx := context.Background()
	srv := natsjs.MustServer(t)
	first, _ := MustDeliveries(t, srv.ClientURL())
	for _, id := range []string{"d-1", "d-2", "d-3"} {
		if err := first.Record(ctx, "gitea", id); err != nil {
			t.Fatal(err)
		}
	}
	d, _ := MustDeliveries(t, srv.ClientURL())
	for _, id := range []string{"d-1", "d-2", "d-3"} {
		if !d.remembers("gitea", id) {
			t.Errorf("delivery %s recorded before the store opened is not in memory", id)
		}
	}
	if n := d.index.Load().len(); n != 3 {
		t.Errorf("index holds %d keys, want 3", n)
	}
}

// TestDeliveriesWatch checks that a delivery recorded through one store is
// remembered by another on the same bucket within milliseconds, and
// forgotten when deleted from the bucket.
func TestDeliveriesWatch(t *testing.T) {
	ctx := context.Background()
	srv := natsjs.MustServer(t)
	a, _ := MustDeliveries(t, srv.ClientURL())
	b, _ := MustDeliveries(t, srv.ClientURL())
	if err := b.Record(ctx, "github", "gh-1"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	eventually(t, time.Second, "recorded by another store", func() bool { return a.remembers("github", "gh-1") })
	t.Logf("seen by the other store after %s", time.Since(start))
	if err := b.kv.Delete(ctx, natsjs.DeliveryKey("github", "gh-1")); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, "deleted key forgotten", func() bool { return !a.index.Load().has(natsjs.DeliveryKey("github", "gh-1"), time.Now()) })
	if seen, err := a.Seen(ctx, "github", "gh-1"); err != nil || seen {
		t.Errorf("Seen(deleted) = %v, %v", seen, err)
	}
}

// TestDeliveriesExpire checks that a key is forgotten once the bucket's TTL
// has passed.
func TestDeliveriesExpire(t *testing.T) {
	ctx := context.Background()
	_, js := natsjs.MustJetStream(t, natsjs.MustServer(t).ClientURL())
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "short", History: 1, TTL: time.Second}); err != nil {
		t.Fatal(err)
	}
	d := mustDeliveriesOn(t, js, "short")
	if err := d.Record(ctx, "github", "gh-1"); err != nil {
		t.Fatal(err)
	}
	if seen, _ := d.Seen(ctx, "github", "gh-1"); !seen {
		t.Fatal("not seen right after Record")
	}
	time.Sleep(1200 * time.Millisecond)
	if seen, err := d.Seen(ctx, "github", "gh-1"); err != nil || seen {
		t.Errorf("Seen() after the TTL = %v, %v", seen, err)
	}
	d.index.Load().sweep(time.Now())
	if n := d.index.Load().len(); n != 0 {
		t.Errorf("index holds %d keys after a sweep, want 0", n)
	}
}

// TestDeliveriesReconnect checks that the watcher follows the bucket after
// its connection was dropped and re-established.
func TestDeliveriesReconnect(t *testing.T) {
	ctx := context.Background()
	srv := natsjs.MustServer(t)
	a, nc := MustDeliveries(t, srv.ClientURL())
	b, _ := MustDeliveries(t, srv.ClientURL())
	if err := nc.ForceReconnect(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "reconnected", func() bool { return nc.Stats().Reconnects > 0 && nc.IsConnected() })
	if err := b.Record(ctx, "github", "after-reconnect"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "recorded by another store after a reconnect", func() bool { return a.remembers("github", "after-reconnect") })
}

// TestDeliveriesServerRestart checks that the watcher follows the bucket
// after the NATS server restarted (its consumer is gone and is recreated
// once heartbeats are missed), and that a delivery recorded while it
// recovers is still recognised from the bucket.
func TestDeliveriesServerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the watcher's missed heartbeats (about 10s)")
	}
	ctx := context.Background()
	dir := t.TempDir()
	srv, err := natsjs.StartServer(natsjs.ServerConfig{Dir: dir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	nc, js := natsjs.MustJetStream(t, srv.ClientURL())
	if err := natsjs.Provision(ctx, js, natsjs.DefaultTopology()); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	a, _ := MustDeliveries(t, srv.ClientURL())
	b, _ := MustDeliveries(t, srv.ClientURL())
	port := srv.Addr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()
	srv.Shutdown()
	srv, err = natsjs.StartServer(natsjs.ServerConfig{Dir: dir, Port: int(port)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	eventually(t, 5*time.Second, "reconnected", func() bool {
		_, err := b.kv.Status(ctx)
		return err == nil
	})
	start := time.Now()
	if err := b.Record(ctx, "github", "after-restart"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "seen from the bucket while the watcher recovers", func() bool {
		seen, err := a.Seen(ctx, "github", "after-restart")
		return err == nil && seen
	})
	t.Logf("seen by the other store %s after the restart", time.Since(start))
	eventually(t, 20*time.Second, "recorded by another store after a restart", func() bool { return a.remembers("github", "after-restart") })
	t.Logf("remembered by the other store %s after the restart", time.Since(start))
}

// closedWatcher is a watcher whose subscription has closed, as an ordered
// consumer's does when it cannot be recreated (its bucket deleted, say;
// that takes the ~20s of missed heartbeats to happen for real).
type closedWatcher struct{ updates chan jetstream.KeyValueEntry }

func (w closedWatcher) Updates() <-chan jetstream.KeyValueEntry { return w.updates }
func (w closedWatcher) Stop() error                             { return nil }

// TestDeliveriesWatcherClosed checks that the store loads the bucket again
// when its watcher closes, forgetting what was deleted meanwhile and asking
// the bucket until it is back.
func TestDeliveriesWatcherClosed(t *testing.T) {
	ctx := context.Background()
	srv := natsjs.MustServer(t)
	b, _ := MustDeliveries(t, srv.ClientURL())
	kv := b.kv
	if err := b.Record(ctx, "github", "deleted"); err != nil {
		t.Fatal(err)
	}
	d := &Deliveries{kv: kv, now: time.Now}
	w, err := d.load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stop(w)
	if !d.index.Load().has(natsjs.DeliveryKey("github", "deleted"), time.Now()) {
		t.Fatal("loaded index misses a recorded delivery")
	}
	closed := closedWatcher{make(chan jetstream.KeyValueEntry)}
	close(closed.updates)
	if err := kv.Delete(ctx, natsjs.DeliveryKey("github", "deleted")); err != nil {
		t.Fatal(err)
	}
	if err := b.Record(ctx, "github", "meanwhile"); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	d.stop = cancel
	t.Cleanup(d.Close)
	d.running.Go(func() { d.run(runCtx, closed) })
	eventually(t, 5*time.Second, "recorded while the watcher was closed", func() bool { return d.remembers("github", "meanwhile") })
	if seen, err := d.Seen(ctx, "github", "deleted"); err != nil || seen {
		t.Errorf("Seen(deleted while the watcher was closed) = %v, %v", seen, err)
	}
	if err := b.Record(ctx, "github", "after"); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, "recorded after the reload", func() bool { return d.remembers("github", "after") })
}
