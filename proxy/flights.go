package proxy

import (
	"slices"
	"sync"
	"time"
)

// Flights counts the requests in flight per upstream address of the proxies
// that share it (WithFlights), so that a deploy drains a replaced replica
// only as long as requests still reach it (docker.Drainer). The zero value
// is not usable; use NewFlights.
type Flights struct {
	mu     sync.Mutex
	n      map[string]int
	routes []*routes
}

// NewFlights returns a Flights with nothing in flight.
func NewFlights() *Flights {
	return &Flights{n: map[string]int{}}
}

// WithFlights counts the proxy's requests in f.
func WithFlights(f *Flights) Option {
	return func(p *Proxy) {
		f.mu.Lock()
		defer f.mu.Unlock()
		p.flights = f
		f.routes = append(f.routes, p.routes)
	}
}

// InFlight returns how many requests are being proxied to addr.
func (f *Flights) InFlight(addr string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n[addr]
}

// Idle reports whether addr has no request in flight and no proxy holds a
// fresh resolution naming it, so that no new request will reach it either.
func (f *Flights) Idle(addr string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[addr] > 0 {
		return false
	}
	return !slices.ContainsFunc(f.routes, func(rs *routes) bool { return rs.fresh(addr) })
}

// Retire makes every proxy sharing f resolve again instead of reusing a
// resolution naming addr, a replaced replica: the next request goes to the
// replica that replaced it, not up to a TTL later. Requests in flight to
// addr go on.
func (f *Flights) Retire(addr string) {
	f.mu.Lock()
	routes := slices.Clone(f.routes)
	f.mu.Unlock()
	for _, rs := range routes {
		rs.retire(addr)
	}
}

// retire marks every resolution naming addr stale, keeping its turn.
func (rs *routes) retire(addr string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for rt, e := range rs.entries {
		if slices.Contains(e.addrs, addr) {
			e.expires = time.Time{}
			rs.entries[rt] = e
		}
	}
}

// start counts a request to addr until the returned function is called.
func (f *Flights) start(addr string) func() {
	if f == nil {
		return func() {}
	}
	f.mu.Lock()
	f.n[addr]++
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.n[addr]--; f.n[addr] <= 0 {
			delete(f.n, addr)
		}
	}
}

// fresh reports whether a cached resolution that has not expired names
// addr.
func (rs *routes) fresh(addr string) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	now := time.Now()
	for _, e := range rs.entries {
		if now.Before(e.expires) && slices.Contains(e.addrs, addr) {
			return true
		}
	}
	return false
}
