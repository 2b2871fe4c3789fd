package gitmirror_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/gitmirror"
	"github.com/slipway-dev/slipway/gitmirror/gittest"
	"github.com/slipway-dev/slipway/gitserver"
)

// hangingRemote is a TCP server on 127.0.0.1 that accepts connections and
// never answers, the way a stuck git host or a black-holing proxy behaves.
type hangingRemote struct {
	ln     net.Listener
	mu     sync.Mutex
	conns  int
	closed chan struct{} // receives once per connection the client closed
}

// MustHangingRemote starts a hangingRemote, stopped when the test ends.
func MustHangingRemote(tb testing.TB) *hangingRemote {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	h := &hangingRemote{ln: ln, closed: make(chan struct{}, 64)}
	var wg sync.WaitGroup
	var open []net.Conn
	tb.Cleanup(func() {
		ln.Close()
		h.mu.Lock()
		for _, c := range open {
			c.Close()
		}
		h.mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.conns++
			open = append(open, c)
			h.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(io.Discard, c) // read the request, answer nothing
				h.closed <- struct{}{}
			}()
		}
	}()
	return h
}

// URL is a clone URL on the hanging server.
func (h *hangingRemote) URL() string { return "http://" + h.ln.Addr().String() + "/a.git" }

// Conns is how many connections it accepted.
func (h *hangingRemote) Conns() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.conns
}

// TestHangingRemote: repository A's clone URL points at a host that
// accepts and never answers. While A's fetch hangs, repository B, served by
// the project's gitserver over HTTP, is fetched and checked out at once; A's
// fetch gives up within its timeout with a retryable ErrTimeout, and the
// connection git held is closed (no transport helper left behind).
func TestHangingRemote(t *testing.T) {
	const timeout = 3 * time.Second
	hang := MustHangingRemote(t)
	repoB := gittest.MustRepo(t)
	repoB.WriteFile("slipway.yaml", "version: 1\n")
	shaB := repoB.Commit("b")
	root := t.TempDir()
	repoB.Git("clone", "--quiet", "--bare", repoB.Dir(), filepath.Join(root, "acme", "b.git"))
	srv, err := gitserver.Start(root, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	b := events.Repo{FullName: "acme/b", CloneURL: srv.URL("acme/b")}
	a := events.Repo{FullName: "acme/a", CloneURL: hang.URL()}

	m, err := gitmirror.New(t.TempDir(), gitmirror.WithTimeout(timeout))
	if err != nil {
		t.Fatal(err)
	}
	// The test's own bound: on code without a timeout A would hang forever.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	errA := make(chan error, 1)
	go func() {
		_, err := m.ReadFile(ctx, a, shaB, "slipway.yaml")
		errA <- err
	}()
	waitFor(t, 5*time.Second, "git to connect to the hanging remote", func() bool { return hang.Conns() > 0 })

	dir, release, err := m.Checkout(ctx, b, shaB)
	if err != nil {
		t.Fatalf("checkout of B while A hangs: %v", err)
	}
	defer release()
	tookB := time.Since(start)
	if _, err := os.Stat(filepath.Join(dir, "slipway.yaml")); err != nil {
		t.Fatalf("B's checkout: %v", err)
	}
	select {
	case err := <-errA:
		t.Fatalf("A's fetch returned before B was checked out (%v): the test proves nothing", err)
	default:
	}
	if tookB > timeout/2 {
		t.Errorf("B took %s while A hung, want well under A's timeout %s", tookB, timeout)
	}

	select {
	case err := <-errA:
		tookA := time.Since(start)
		var re *events.RetryableError
		if !errors.Is(err, gitmirror.ErrTimeout) || !errors.As(err, &re) || events.IsPermanent(err) {
			t.Errorf("A's fetch: %v, want retryable ErrTimeout", err)
		}
		if tookA < timeout || tookA > timeout+5*time.Second {
			t.Errorf("A's fetch gave up after %s, want about its timeout %s", tookA, timeout)
		}
		t.Logf("B checked out in %s while A hung; A gave up after %s: %v", tookB.Round(time.Millisecond), tookA.Round(time.Millisecond), err)
	case <-time.After(timeout + 10*time.Second):
		t.Fatalf("A's fetch still running %s after it started, with a timeout of %s", time.Since(start).Round(time.Second), timeout)
	}
	select {
	case <-hang.closed:
	case <-time.After(5 * time.Second):
		t.Errorf("the connection to the hanging remote is still open: a git helper outlived the fetch")
	}
}

// TestHangingRemoteHoldsOneWorker: while one fetch of a repository hangs,
// another request for the same repository waits only a bounded time for
// it and comes back retryable, instead of holding its worker for as long.
func TestHangingRemoteHoldsOneWorker(t *testing.T) {
	hang := MustHangingRemote(t)
	a := events.Repo{FullName: "acme/a", CloneURL: hang.URL()}
	m, err := gitmirror.New(t.TempDir(), gitmirror.WithTimeout(20*time.Second), gitmirror.WithLockWait(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sha := "0123456789abcdef0123456789abcdef01234567"
	first := make(chan error, 1)
	go func() {
		_, err := m.ReadFile(ctx, a, sha, "slipway.yaml")
		first <- err
	}()
	waitFor(t, 5*time.Second, "the first fetch to connect", func() bool { return hang.Conns() > 0 })
	start := time.Now()
	second := make(chan error, 1)
	go func() {
		_, err := m.ReadFile(ctx, a, sha, "slipway.yaml")
		second <- err
	}()
	select {
	case err := <-second:
		var re *events.RetryableError
		if took := time.Since(start); !errors.As(err, &re) || took > 5*time.Second {
			t.Errorf("second request: %v after %s, want retryable after about 1s", err, took)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("second request still waiting for the first after 10s")
	}
	cancel()
	if err := <-first; err == nil || events.IsPermanent(err) {
		t.Errorf("first fetch after cancel: %v, want the context's error", err)
	}
}

// waitFor polls cond until it holds or d passes.
func waitFor(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
