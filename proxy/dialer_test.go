package proxy_test

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/slipway-dev/slipway/proxy"
)

// remoteStub is a Resolver and Dialer whose addresses are names only it can
// reach, as a remote target's are: it dials them at the real backends.
type remoteStub struct {
	*multiStub
	mu     sync.Mutex
	routes map[string]string // reported address to the backend's
	dialed []string
}

func (s *remoteStub) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	s.mu.Lock()
	s.dialed = append(s.dialed, addr)
	backend := s.routes[addr]
	s.mu.Unlock()
	var d net.Dialer
	return d.DialContext(ctx, network, backend)
}

// TestDialsThroughTheResolver: a Resolver that is a Dialer is the only way
// the proxy reaches its addresses; it never dials them itself.
func TestDialsThroughTheResolver(t *testing.T) {
	stub := &remoteStub{
		multiStub: newMultiStub(map[string][][]string{"web.prod": {{"app1.invalid:8080", "app2.invalid:8080"}}}),
		routes:    map[string]string{"app1.invalid:8080": MustBackend(t, "app1"), "app2.invalid:8080": MustBackend(t, "app2")},
	}
	p := proxy.New(stub, "", labels)
	seen := map[string]bool{}
	for range 4 {
		code, body := get(t, p, "web.prod.shop.localhost", "/")
		if code != 200 {
			t.Fatalf("got %d %q, want 200 from a backend reached through Dial", code, body)
		}
		seen[backendOf(body)] = true
	}
	if !seen["app1"] || !seen["app2"] {
		t.Errorf("backends answering: %v, want app1 and app2", seen)
	}
	stub.mu.Lock()
	defer stub.mu.Unlock()
	if len(stub.dialed) == 0 {
		t.Error("the proxy never dialled through the resolver")
	}
}
