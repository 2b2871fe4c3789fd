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
// test process that dies releases it; a second file, the gate, gives a
// waiting exclusive holder precedence over tests that start after it.
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
	exclusive int      // exclusive locks this process holds
	shared    int      // tests of this process holding the shared lock
	sharedFD  *os.File // the one open file that holds it for them
)

// Shared holds the lock shared until the test ends. Inside a test process
// that holds it exclusively it does nothing; tests of one process share one
// hold, so a nested or parallel test never waits on its own process.
//
// A waiting Exclusive goes first: Shared passes the gate (a second lock file
// the exclusive waiter holds while it waits) before it takes the lock, so a
// stream of overlapping tests cannot keep an exclusive waiter out for ever.
func Shared(tb testing.TB) {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if exclusive > 0 {
		return
	}
	if shared == 0 {
		gate := open(tb, "daemons.gate")
		err := syscall.Flock(int(gate.Fd()), syscall.LOCK_SH)
		if err == nil {
			sharedFD = open(tb, "daemons.lock")
			err = syscall.Flock(int(sharedFD.Fd()), syscall.LOCK_SH)
			if err != nil {
				sharedFD.Close()
			}
		}
		gate.Close()
		if err != nil {
			tb.Fatalf("daemon lock: %v", err)
		}
	}
	shared++
	tb.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if shared--; shared == 0 {
			sharedFD.Close() // closing the file releases the lock
		}
	})
}

// MaxWait bounds how long Exclusive waits: a test that hangs while it holds
// the lock shared must fail the waiting test, not hang it too.
var MaxWait = 5 * time.Minute

// Exclusive holds the lock exclusively until the test ends, waiting until no
// other test process holds it (at most MaxWait, then the test fails). While
// it waits it holds the gate, so tests that start meanwhile wait behind it.
func Exclusive(tb testing.TB) {
	tb.Helper()
	start := time.Now()
	gate := open(tb, "daemons.gate")
	defer gate.Close()
	f := open(tb, "daemons.lock")
	for _, l := range []*os.File{gate, f} {
		for syscall.Flock(int(l.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			if time.Since(start) > MaxWait {
				f.Close()
				tb.Fatalf("daemon lock: other tests used dockerd, buildkitd or the registry for %s; is one hung?", MaxWait)
			}
			time.Sleep(50 * time.Millisecond)
		}
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

func open(tb testing.TB, name string) *os.File {
	tb.Helper()
	f, err := os.OpenFile(filepath.Join(dir(), name), os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		tb.Fatalf("daemon lock: %v", err)
	}
	return f
}

func dir() string {
	dir := os.Getenv("SLIPWAY_RUN_DIR")
	if dir == "" {
		dir = "/run/slipway"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		dir = os.TempDir()
	}
	return dir
}
