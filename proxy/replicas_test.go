package proxy_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/proxy"
)

// multiStub is a Resolver answering from a table: a route gets its
// answers in turn, the last one repeated; an empty answer is an error.
type multiStub struct {
	mu      sync.Mutex
	answers map[string][][]string // "service.env" to lists of addresses
	calls   map[string]int
}

var _ proxy.Resolver = (*multiStub)(nil)

func newMultiStub(answers map[string][][]string) *multiStub {
	return &multiStub{answers: answers, calls: map[string]int{}}
}

func (s *multiStub) ResolveAll(_ context.Context, repo, env, service string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := stubKey(repo, env, service)
	n := s.calls[key]
	s.calls[key]++
	as := s.answers[key]
	if len(as) == 0 || len(as[min(n, len(as)-1)]) == 0 {
		return nil, errors.New("not live")
	}
	return as[min(n, len(as)-1)], nil
}

func (s *multiStub) Calls(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[key]
}

// backendOf returns the name a MustBackend answered with.
func backendOf(body string) string {
	name, _, _ := strings.Cut(body, " ")
	return name
}

func TestSpreadsOverReplicas(t *testing.T) {
	addrs := []string{MustBackend(t, "r0"), MustBackend(t, "r1"), MustBackend(t, "r2")}
	stub := newMultiStub(map[string][][]string{"web.prod": {addrs}})
	p := proxy.New(stub, "", proxy.WithTTL(time.Hour), labels)
	var got []string
	for range 6 {
		code, body := get(t, p, "web.prod.shop.localhost", "/")
		if code != 200 {
			t.Fatalf("got %d %q, want 200", code, body)
		}
		got = append(got, backendOf(body))
	}
	if want := "r0 r1 r2 r0 r1 r2"; strings.Join(got, " ") != want {
		t.Errorf("backends in turn = %v, want %s", got, want)
	}
	if n := stub.Calls("web.prod"); n != 1 {
		t.Errorf("%d resolutions, want 1", n)
	}
}

func TestTurnSurvivesRefresh(t *testing.T) {
	addrs := []string{MustBackend(t, "r0"), MustBackend(t, "r1")}
	stub := newMultiStub(map[string][][]string{"web.prod": {addrs}})
	p := proxy.New(stub, "", proxy.WithTTL(time.Nanosecond), labels)
	var got []string
	for range 4 {
		_, body := get(t, p, "web.prod.shop.localhost", "/")
		got = append(got, backendOf(body))
	}
	if want := "r0 r1 r0 r1"; strings.Join(got, " ") != want {
		t.Errorf("backends with a resolution per request = %v, want %s", got, want)
	}
}

func TestReresolvesReplicasOnDialError(t *testing.T) {
	r1, r2 := MustBackend(t, "r1"), MustBackend(t, "r2")
	// The first answer holds a replica that is gone by the time it is
	// dialled; the second is the scaled-down set.
	stub := newMultiStub(map[string][][]string{"web.prod": {{MustRefusingAddr(t), r1}, {r2}}})
	p := proxy.New(stub, "", proxy.WithTTL(time.Hour), labels)
	code, body := get(t, p, "web.prod.shop.localhost", "/")
	if code != 200 || backendOf(body) != "r2" {
		t.Fatalf("got %d %q, want 200 from r2", code, body)
	}
	if n := stub.Calls("web.prod"); n != 2 {
		t.Errorf("%d resolutions, want 2", n)
	}
	if _, body := get(t, p, "web.prod.shop.localhost", "/"); backendOf(body) != "r2" {
		t.Errorf("after re-resolution got %q, want r2", body)
	}
}

func TestNoReplicaLive(t *testing.T) {
	p := proxy.New(newMultiStub(map[string][][]string{"web.prod": {{}}}), "", labels)
	if code, body := get(t, p, "web.prod.shop.localhost", "/"); code != 502 || !strings.Contains(body, "no live container") {
		t.Errorf("got %d %q, want 502 no live container", code, body)
	}
}
