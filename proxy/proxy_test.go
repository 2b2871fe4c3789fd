package proxy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/proxy"
)

// stubResolver answers from a table and counts the questions. A route with
// several answers gets them in turn, the last one repeated.
type stubResolver struct {
	mu      sync.Mutex
	answers map[string][]string // "service.env" (of acme/shop, "service.env@repo" of another) to addresses; "" is an error
	calls   map[string]int
}

func newStub(answers map[string][]string) *stubResolver {
	return &stubResolver{answers: answers, calls: map[string]int{}}
}

func (s *stubResolver) ResolveAll(_ context.Context, repo, env, service string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := stubKey(repo, env, service)
	n := s.calls[key]
	s.calls[key]++
	as := s.answers[key]
	if len(as) == 0 {
		return nil, errors.New("no such service")
	}
	a := as[min(n, len(as)-1)]
	if a == "" {
		return nil, errors.New("not live")
	}
	return []string{a}, nil
}

// stubKey is "service.env" for acme/shop, "service.env@repo" for another
// repository.
func stubKey(repo, env, service string) string {
	if repo == "acme/shop" {
		return service + "." + env
	}
	return service + "." + env + "@" + repo
}

// labels gives acme/shop the host label "shop" and acme/blog "blog".
var labels = proxy.WithHosts(proxy.StaticHosts{Labels: map[string]string{"shop": "acme/shop", "blog": "acme/blog"}})

func (s *stubResolver) Calls(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[key]
}

// MustBackend starts an HTTP server that answers with name, the Host it saw
// and X-Forwarded-Host, and returns its address.
func MustBackend(tb testing.TB, name string) string {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s host=%s fwd=%s path=%s", name, r.Host, r.Header.Get("X-Forwarded-Host"), r.URL.Path)
	}))
	tb.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// MustRefusingAddr returns a loopback address nothing listens on.
func MustRefusingAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// get sends a GET for path with host through h and returns status and body.
func get(tb testing.TB, h http.Handler, host, path string) (int, string) {
	tb.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://"+host+path, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func TestRouting(t *testing.T) {
	web := MustBackend(t, "web")
	api := MustBackend(t, "api")
	p := proxy.New(newStub(map[string][]string{
		"web.staging":           {web},
		"api.pr-7":              {api},
		"down.staging":          {""},
		"web.staging@acme/blog": {api},
	}), "", labels)

	tests := []struct {
		name     string
		host     string
		wantCode int
		wantBody string
	}{
		{"service of env", "web.staging.shop.localhost:8080", 200, "web host=web.staging.shop.localhost:8080 fwd=web.staging.shop.localhost:8080 path=/x"},
		{"no port", "api.pr-7.shop.localhost", 200, "api host=api.pr-7.shop.localhost"},
		{"case and trailing dot", "WEB.Staging.Shop.LocalHost.:8080", 200, "web "},
		{"another repository's env of the same name", "web.staging.blog.localhost", 200, "api host=web.staging.blog.localhost"},
		{"unknown service", "nope.staging.shop.localhost", 502, `no live container for service "nope" in environment "staging" of acme/shop`},
		{"service not live", "down.staging.shop.localhost", 502, "no live container"},
		{"env only", "staging.shop.localhost", 404, "use <service>.<env>.<repository>.localhost"},
		{"without the repository", "web.staging.localhost", 404, "no service answers"},
		{"unknown repository label", "web.staging.nope.localhost", 404, "no service answers"},
		{"too deep", "a.web.staging.shop.localhost", 404, "no service answers"},
		{"other domain", "web.staging.shop.example.com", 404, "no service answers"},
		{"domain itself", "localhost:8080", 404, "no service answers"},
		{"empty label", ".staging.shop.localhost", 404, "no service answers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := get(t, p, tt.host, "/x")
			if code != tt.wantCode || !strings.Contains(body, tt.wantBody) {
				t.Errorf("GET %s = %d %q, want %d containing %q", tt.host, code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestCustomDomain(t *testing.T) {
	web := MustBackend(t, "web")
	p := proxy.New(newStub(map[string][]string{"web.prod": {web}}), ".Apps.Example.COM.", labels)
	if code, _ := get(t, p, "web.prod.shop.apps.example.com", "/"); code != 200 {
		t.Errorf("custom domain: got %d, want 200", code)
	}
	if code, _ := get(t, p, "web.prod.shop.localhost", "/"); code != 404 {
		t.Errorf("default domain under custom: got %d, want 404", code)
	}
}

func TestCachesResolutions(t *testing.T) {
	web := MustBackend(t, "web")
	stub := newStub(map[string][]string{"web.staging": {web}})
	p := proxy.New(stub, "", proxy.WithTTL(200*time.Millisecond), labels)
	for range 3 {
		get(t, p, "web.staging.shop.localhost", "/")
	}
	if got := stub.Calls("web.staging"); got != 1 {
		t.Errorf("within TTL: %d resolutions, want 1", got)
	}
	time.Sleep(250 * time.Millisecond)
	get(t, p, "web.staging.shop.localhost", "/")
	if got := stub.Calls("web.staging"); got != 2 {
		t.Errorf("after TTL: %d resolutions, want 2", got)
	}
}

func TestReresolvesOnDialError(t *testing.T) {
	web := MustBackend(t, "web-v2")
	stub := newStub(map[string][]string{"web.staging": {MustRefusingAddr(t), web}})
	p := proxy.New(stub, "", proxy.WithTTL(time.Hour), labels)
	// A body proves the request is not replayed from a consumed reader.
	req := httptest.NewRequest(http.MethodPost, "http://web.staging.shop.localhost/", strings.NewReader("payload"))
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), "web-v2 ") {
		t.Fatalf("got %d %q, want 200 from web-v2", rec.Code, rec.Body.String())
	}
	if got := stub.Calls("web.staging"); got != 2 {
		t.Errorf("%d resolutions, want 2", got)
	}
}

func TestRetriesFailedResolution(t *testing.T) {
	web := MustBackend(t, "web")
	stub := newStub(map[string][]string{"web.staging": {"", web}})
	p := proxy.New(stub, "", labels)
	if code, body := get(t, p, "web.staging.shop.localhost", "/"); code != 200 {
		t.Fatalf("got %d %q, want 200 after one retry", code, body)
	}
}

func TestUnreachableUpstream(t *testing.T) {
	dead := MustRefusingAddr(t)
	p := proxy.New(newStub(map[string][]string{"web.staging": {dead}}), "", labels)
	code, body := get(t, p, "web.staging.shop.localhost", "/")
	if code != http.StatusBadGateway || !strings.Contains(body, "not reachable") {
		t.Errorf("got %d %q, want 502 not reachable", code, body)
	}
}

func TestServerShutsDownOnCancel(t *testing.T) {
	web := MustBackend(t, "web")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &proxy.Server{Handler: proxy.New(newStub(map[string][]string{"web.staging": {web}}), "", labels)}
	ctx, cancel := context.WithCancel(context.Background())
	var done atomic.Value
	finished := make(chan struct{})
	go func() { done.Store(fmt.Sprint(srv.Serve(ctx, ln))); close(finished) }()

	req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/", nil)
	req.Host = "web.staging.shop.localhost"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(b), "web ") {
		t.Errorf("through server: %q", b)
	}
	cancel()
	select {
	case <-finished:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if got := done.Load(); got != "<nil>" {
		t.Errorf("Serve returned %v, want nil", got)
	}
}

// TestWaitsOutASwapOfARouteThatServed: a route that resolved before and
// then resolves to nothing for longer than one retry pause (a swap of
// container names on a busy daemon, a canary moved into its environment)
// holds the request until it resolves again, instead of answering 502; a
// route that never resolved is asked twice only.
func TestWaitsOutASwapOfARouteThatServed(t *testing.T) {
	old, next := MustBackend(t, "old"), MustBackend(t, "next")
	// The first answer serves, then five failed lookups (≈ 500 ms of
	// pauses), then the replacement.
	stub := newStub(map[string][]string{"web.staging": {old, "", "", "", "", "", next}, "api.staging": {""}})
	p := proxy.New(stub, "", proxy.WithTTL(time.Millisecond), labels)
	if code, body := get(t, p, "web.staging.shop.localhost", "/"); code != 200 || !strings.HasPrefix(body, "old ") {
		t.Fatalf("got %d %q, want 200 from old", code, body)
	}
	time.Sleep(5 * time.Millisecond) // past the TTL
	if code, body := get(t, p, "web.staging.shop.localhost", "/"); code != 200 || !strings.HasPrefix(body, "next ") {
		t.Fatalf("during the swap: got %d %q, want 200 from next once it resolves", code, body)
	}
	if code, _ := get(t, p, "api.staging.shop.localhost", "/"); code != http.StatusBadGateway {
		t.Errorf("a route never resolved: got %d, want 502", code)
	}
	if n := stub.Calls("api.staging"); n != 2 {
		t.Errorf("a route never resolved was asked %d times, want 2", n)
	}
}
