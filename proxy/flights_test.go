package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/proxy"
)

// waitUntil fails the test when cond is still false after d.
func waitUntil(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFlightsCountsRequestsInFlight: while a request is being proxied to an
// address, Flights counts it and the address is not idle; once it is
// answered and the proxy's resolution naming the address has expired, it
// is idle.
func TestFlightsCountsRequestsInFlight(t *testing.T) {
	release := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		_, _ = w.Write([]byte("done"))
	}))
	t.Cleanup(backend.Close)
	addr := strings.TrimPrefix(backend.URL, "http://")
	flights := proxy.NewFlights()
	ttl := 300 * time.Millisecond
	p := proxy.New(newMultiStub(map[string][][]string{"web.prod": {{addr}}}), "", labels, proxy.WithTTL(ttl), proxy.WithFlights(flights))
	if !flights.Idle(addr) {
		t.Fatal("Idle before any request = false")
	}

	done := make(chan int)
	go func() {
		code, _ := get(t, p, "web.prod.shop.localhost", "/")
		done <- code
	}()
	waitUntil(t, 5*time.Second, "the request is not counted in flight", func() bool { return flights.InFlight(addr) == 1 })
	if flights.Idle(addr) {
		t.Error("Idle with a request in flight = true")
	}
	close(release)
	if code := <-done; code != http.StatusOK {
		t.Fatalf("proxied request = %d, want 200", code)
	}
	answered := time.Now()
	if n := flights.InFlight(addr); n != 0 {
		t.Errorf("InFlight after the answer = %d, want 0", n)
	}
	if idle := flights.Idle(addr); idle && time.Since(answered) < ttl/2 {
		t.Error("Idle while the proxy's resolution naming the address is fresh = true")
	}
	waitUntil(t, 5*time.Second, "the address is not idle after its resolution expired", func() bool { return flights.Idle(addr) })
	if waited := time.Since(answered); waited > ttl+time.Second {
		t.Errorf("idle %s after the answer, want within the resolution's %s", waited, ttl)
	}
}

// TestRetireSendsTheNextRequestToTheReplacement: once a deploy retires the
// address it replaced, the next request resolves again and reaches the
// replacement at once, though the resolution naming the old address is
// younger than its TTL; without Retire it would reach the old one until
// the TTL ran out.
func TestRetireSendsTheNextRequestToTheReplacement(t *testing.T) {
	old, replacement := MustBackend(t, "old"), MustBackend(t, "new")
	flights := proxy.NewFlights()
	p := proxy.New(newMultiStub(map[string][][]string{"web.prod": {{old}, {replacement}}}), "", labels,
		proxy.WithTTL(time.Minute), proxy.WithFlights(flights))
	for _, tt := range []struct {
		retire string
		want   string
	}{
		{"", "old"},
		{"", "old"}, // the fresh resolution is reused
		{old, "new"},
	} {
		if tt.retire != "" {
			flights.Retire(tt.retire)
		}
		code, body := get(t, p, "web.prod.shop.localhost", "/")
		if code != http.StatusOK || backendOf(body) != tt.want {
			t.Fatalf("after retiring %q: %d from %q, want 200 from %q", tt.retire, code, backendOf(body), tt.want)
		}
	}
	if !flights.Idle(old) {
		t.Error("the retired address is not idle with no request in flight")
	}
}
