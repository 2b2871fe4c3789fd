package proxy

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// retryPause is how long the proxy waits before asking a failed Resolver
// again: long enough to cover a deploy's swap of two container names on
// an idle daemon.
const retryPause = 100 * time.Millisecond

// swapWait is how long a request for a route that resolved before waits
// for it to resolve again, asking every retryPause: a swap of container
// names on a busy daemon, or a canary's containers moved into their
// environment, takes longer than one pause, and a request held that long
// is better than a 502. A route never resolved gets one retry only, so a
// made-up Host header costs two questions to the Resolver, not twenty.
const swapWait = 2 * time.Second

// entry is a cached resolution: the addresses of a route's replicas and the
// turn of the next request.
type entry struct {
	addrs   []string
	next    int
	expires time.Time
}

// routes resolves routes through a Resolver, caching answers for ttl, and
// hands out a route's addresses in turn. It also remembers which route each
// address was resolved for, so the dialler can resolve again when an address
// stops answering.
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

// resolve returns the next address of rt, from the cache while it is fresh.
func (rs *routes) resolve(ctx context.Context, rt route) (string, error) {
	if addr, ok := rs.cached(rt); ok {
		return addr, nil
	}
	addrs, err := rs.lookup(ctx, rt)
	if err != nil {
		addrs, err = rs.retry(ctx, rt)
	}
	if err != nil {
		return "", err
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	// The turn carries over a refresh, so a short TTL still spreads
	// requests evenly.
	next := rs.entries[rt].next
	rs.entries[rt] = entry{addrs: addrs, next: next + 1, expires: time.Now().Add(rs.ttl)}
	for _, a := range addrs {
		rs.owners[a] = rt
	}
	return addrs[next%len(addrs)], nil
}

// cached returns the next address of rt while its resolution is fresh.
func (rs *routes) cached(rt route) (string, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	e, ok := rs.entries[rt]
	if !ok || len(e.addrs) == 0 || !time.Now().Before(e.expires) {
		return "", false
	}
	addr := e.addrs[e.next%len(e.addrs)]
	e.next++
	rs.entries[rt] = e
	return addr, true
}

// lookup asks the Resolver for every address of rt.
func (rs *routes) lookup(ctx context.Context, rt route) ([]string, error) {
	addrs, err := rs.resolver.ResolveAll(ctx, rt.Repo, rt.Env, rt.Service)
	if err == nil && len(addrs) == 0 {
		err = fmt.Errorf("resolve %s of %s of %s: no address", rt.Service, rt.Env, rt.Repo)
	}
	return addrs, err
}

// retry asks the Resolver again after retryPause: once for a route never
// resolved, and until swapWait has passed for one that was (served).
func (rs *routes) retry(ctx context.Context, rt route) ([]string, error) {
	deadline := time.Now().Add(retryPause)
	if rs.served(rt) {
		deadline = time.Now().Add(swapWait)
	}
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(retryPause):
		}
		addrs, err := rs.lookup(ctx, rt)
		if err == nil || !time.Now().Before(deadline) {
			return addrs, err
		}
	}
}

// served reports whether rt resolved to an address before: its entry
// outlives its freshness.
func (rs *routes) served(rt route) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return len(rs.entries[rt].addrs) > 0
}

// forget drops the cached resolution that produced addr, so that the next
// request resolves again, and returns its route.
func (rs *routes) forget(addr string) (route, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rt, ok := rs.owners[addr]
	if !ok {
		return route{}, false
	}
	delete(rs.owners, addr)
	if e, ok := rs.entries[rt]; ok && slices.Contains(e.addrs, addr) {
		e.expires = time.Time{} // stale, but keeps the turn
		rs.entries[rt] = e
	}
	return rt, true
}

// dial connects to addr. When it refuses (its container was replaced), the
// route addr was resolved for is resolved again once and the new address
// dialled. Nothing has been sent yet, so this is safe for every request.
func (rs *routes) dial(ctx context.Context, d dialFunc, network, addr string) (net.Conn, error) {
	conn, err := d(ctx, network, addr)
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
	return d(ctx, network, next)
}

// dialFunc connects to an address.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// dialerOf returns the dial function of r when r is a Dialer, or nil.
func dialerOf(r Resolver) dialFunc {
	if d, ok := r.(Dialer); ok {
		return d.Dial
	}
	return nil
}

// transport returns the proxy's transport, dialling with dial (direct when
// nil). Connections are pooled per container address, so a new resolution
// never reuses a connection to a replaced container; idle ones are dropped
// soon.
func transport(rs *routes, dial dialFunc) *http.Transport {
	if dial == nil {
		dial = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			return rs.dial(ctx, dial, network, addr)
		},
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     10 * time.Second,
	}
}
