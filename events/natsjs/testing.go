package natsjs

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// MustServer starts an embedded JetStream server on a free port with its store
// in a temporary directory, provisioned with the default topology (the
// stream and buckets, no durable consumer of the workflows), and stops it
// when the test ends.
func MustServer(tb testing.TB) *server.Server {
	tb.Helper()
	return MustServerWith(tb, DefaultTopology())
}

// MustServerWith is MustServer provisioned with topo (the wiring's
// consumers, a short duplicate window, few deliveries).
func MustServerWith(tb testing.TB, topo Topology) *server.Server {
	tb.Helper()
	s, err := StartServer(ServerConfig{Dir: tb.TempDir(), Port: -1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Shutdown)
	nc, js := MustJetStream(tb, s.ClientURL())
	defer nc.Close()
	if err := Provision(context.Background(), js, topo); err != nil {
		tb.Fatal(err)
	}
	return s
}

// MustJetStream connects to url and closes the connection when the test ends.
func MustJetStream(tb testing.TB, url string) (*nats.Conn, jetstream.JetStream) {
	tb.Helper()
	nc, err := Connect(url, tb.Name())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	return nc, js
}

// MustAuthServer is MustServerWith requiring the role keys it returns, as
// `slipway up` runs it: each role pulls only its own consumers of topo. The
// admin connection provisions.
func MustAuthServer(tb testing.TB, topo Topology) (*server.Server, *Keys) {
	tb.Helper()
	dir := tb.TempDir()
	keys, err := EnsureKeys(filepath.Join(dir, KeysDirName))
	if err != nil {
		tb.Fatal(err)
	}
	s, err := StartServer(ServerConfig{Dir: dir, Port: -1, Keys: keys, Consumers: topo.Consumers})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Shutdown)
	_, js := MustRoleJetStream(tb, s.ClientURL(), keys, RoleAdmin)
	if err := Provision(context.Background(), js, topo); err != nil {
		tb.Fatal(err)
	}
	return s, keys
}

// MustRoleJetStream connects to url as role, with the role's inbox prefix,
// and closes the connection when the test ends.
func MustRoleJetStream(tb testing.TB, url string, keys *Keys, r Role, opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	tb.Helper()
	opt, err := keys.Option(r)
	if err != nil {
		tb.Fatal(err)
	}
	nc, err := Connect(url, tb.Name()+"-"+string(r), append([]nats.Option{opt, nats.CustomInboxPrefix(InboxPrefix(r))}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	return nc, js
}
