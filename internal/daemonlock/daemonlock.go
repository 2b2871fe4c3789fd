// Package daemonlock keeps tests that restart the shared daemons of the
// local build chain (dockerd, buildkitd, the registry) away from tests that
// use them, across every test process of the machine: `go test ./...` runs
// packages in parallel, and several people may run tests on one machine.
//
// A test that uses a daemon takes the lock shared (the test helpers that
// find the daemons do it: buildkittest, dockertest); a test that stops or
// restarts one takes it exclusively, and so waits until no other test uses
// the daemons and keeps new ones waiting until it has restored them. The
// lock is a flock(2) on a file under SLIPWAY_RUN_DIR (/run/slipway), so a
// test process that dies releases it.
package daemonlock

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	mu        sync.Mutex
	exclusive int // exclusive locks this process holds
)

// Shared holds the lock shared until the test ends. Inside a test process
// that holds it exclusively it does nothing.
func Shared(tb testing.TB) {
	tb.Helper()
	mu.Lock()
	held := exclusive > 0
	mu.Unlock()
	if !held {
		lock(tb, syscall.LOCK_SH)
	}
}

// MaxWait bounds how long Exclusive waits: a test that hangs while it holds
// the lock shared must fail the waiting test, not hang it too.
var MaxWait = 5 * time.Minute

// Exclusive holds the lock exclusively until the test ends, waiting until no
// other test process holds it (at most MaxWait, then the test fails).
func Exclusive(tb testing.TB) {
	tb.Helper()
	f := open(tb)
	start := time.Now()
	for syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		if time.Since(start) > MaxWait {
			f.Close()
			tb.Fatalf("daemon lock: other tests used dockerd, buildkitd or the registry for %s; is one hung?", MaxWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Cleanup(func() { f.Close() })
	mu.Lock()
	exclusive++
	mu.Unlock()
	tb.Cleanup(func() {
		mu.Lock()
		exclusive--
		mu.Unlock()
	})
}

func open(tb testing.TB) *os.File {
	tb.Helper()
	f, err := os.OpenFile(path(), os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		tb.Fatalf("daemon lock: %v", err)
	}
	return f
}

func lock(tb testing.TB, how int) {
	tb.Helper()
	f := open(tb)
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		tb.Fatalf("daemon lock: %v", err)
	}
	tb.Cleanup(func() { f.Close() }) // closing the file releases the lock
}

func path() string {
	dir := os.Getenv("SLIPWAY_RUN_DIR")
	if dir == "" {
		dir = "/run/slipway"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "daemons.lock")
}
