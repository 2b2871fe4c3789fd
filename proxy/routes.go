package proxy

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// retryPause is how long the proxy waits before asking a failed Resolver
// again: long enough to cover a deploy's swap of two container names.
const retryPause = 100 * time.Millisecond

// route is one service of one environment.
type route struct{ env, service string }

// entry is a cached resolution.
type entry struct {
	addr    string
	expires time.Time
}

// routes resolves routes through a Resolver, caching answers for ttl. It
// also remembers which route each address was resolved for, so the dialler
// can resolve again when an address stops answering.
type routes struct {
	resolver Resolver
	ttl      time.Duration

	mu      sync.Mutex
	entries map[route]entry
	owners  map[string]route // address to the route it serves
}

// newRoutes returns an empty cache in front of resolver.
func newRoutes(resolver Resolver, ttl time.Duration) *routes {
	return &routes{resolver: resolver, ttl: ttl, entries: map[route]entry{}, owners: map[string]route{}}
}

// resolve returns the address of rt, from the cache while it is fresh.
func (rs *routes) resolve(ctx context.Context, rt route) (string, error) {
	rs.mu.Lock()
	e, ok := rs.entries[rt]
	rs.mu.Unlock()
	if ok && time.Now().Before(e.expires) {
		return e.addr, nil
	}
	addr, err := rs.resolver.Resolve(ctx, rt.env, rt.service)
	if err != nil {
		addr, err = rs.retry(ctx, rt)
	}
	if err != nil {
		return "", err
	}
	rs.mu.Lock()
	rs.entries[rt] = entry{addr: addr, expires: time.Now().Add(rs.ttl)}
	rs.owners[addr] = rt
	rs.mu.Unlock()
	return addr, nil
}

// retry asks the Resolver once more after retryPause.
func (rs *routes) retry(ctx context.Context, rt route) (string, error) {
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case <-time.After(retryPause):
	}
	return rs.resolver.Resolve(ctx, rt.env, rt.service)
}

// forget drops the cached resolution that produced addr and returns its
// route.
func (rs *routes) forget(addr string) (route, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rt, ok := rs.owners[addr]
	if !ok {
		return route{}, false
	}
	delete(rs.owners, addr)
	if rs.entries[rt].addr == addr {
		delete(rs.entries, rt)
	}
	return rt, true
}

// dial connects to addr. When it refuses (its container was replaced), the
// route addr was resolved for is resolved again once and the new address
// dialled. Nothing has been sent yet, so this is safe for every request.
func (rs *routes) dial(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	conn, err := d.DialContext(ctx, network, addr)
	if err == nil {
		return conn, nil
	}
	rt, ok := rs.forget(addr)
	if !ok {
		return nil, err
	}
	next, rerr := rs.resolve(ctx, rt)
	if rerr != nil {
		return nil, err
	}
	return d.DialContext(ctx, network, next)
}

// transport returns the proxy's transport. Connections are pooled per
// container address, so a new resolution never reuses a connection to a
// replaced container; idle ones are dropped soon.
func transport(rs *routes) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return rs.dial(ctx, d, network, addr)
		},
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     10 * time.Second,
	}
}
