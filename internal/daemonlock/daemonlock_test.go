package daemonlock_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/internal/daemonlock"
)

// helperLocked is what the helper process prints once it holds the lock.
const helperLocked = "daemonlock helper: locked shared"

// TestExclusiveWaitsForShared runs a helper process that holds the lock
// shared for a moment; Exclusive must wait for it.
func TestExclusiveWaitsForShared(t *testing.T) {
	if os.Getenv("DAEMONLOCK_HELPER") == "1" {
		daemonlock.Shared(t)
		fmt.Println(helperLocked)
		time.Sleep(time.Second) // holds the lock a while: what Exclusive must wait for
		return
	}
	t.Setenv("SLIPWAY_RUN_DIR", t.TempDir())
	cmd := exec.Command(os.Args[0], "-test.run=^TestExclusiveWaitsForShared$")
	cmd.Env = append(os.Environ(), "DAEMONLOCK_HELPER=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	locked := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == helperLocked {
				close(locked)
			}
		}
	}()
	select {
	case <-locked:
	case <-time.After(30 * time.Second):
		t.Fatal("the helper never took the lock shared")
	}
	start := time.Now()
	daemonlock.Exclusive(t)
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Errorf("Exclusive waited %s, want until the helper's shared lock ended", waited)
	}
	daemonlock.Shared(t) // inside the exclusive holder: no deadlock
}

// TestExclusiveGoesBeforeLaterShared: while Exclusive waits for a test that
// holds the lock shared, a test that starts later waits behind the
// exclusive holder instead of joining the shared one; otherwise overlapping
// tests of other packages could keep the exclusive waiter out for ever.
func TestExclusiveGoesBeforeLaterShared(t *testing.T) {
	if os.Getenv("DAEMONLOCK_HELPER") == "2" {
		daemonlock.Shared(t)
		fmt.Printf("%s %d\n", helperLocked, time.Now().UnixNano())
		time.Sleep(time.Second) // holds the lock a while: what Exclusive must wait for
		return
	}
	t.Setenv("SLIPWAY_RUN_DIR", t.TempDir())
	_, firstAt := startHelper(t)
	<-firstAt
	later := make(chan int64, 1)
	var laterAt <-chan int64
	var released time.Time
	parent := t
	t.Run("exclusive", func(t *testing.T) {
		go func() {
			time.Sleep(200 * time.Millisecond) // the later test starts while Exclusive waits
			_, at := startHelper(parent)
			later <- <-at
		}()
		daemonlock.Exclusive(t)
		laterAt = later
		time.Sleep(500 * time.Millisecond) // holds it a while: what the later test must wait for
		released = time.Now()
	})
	at := time.Unix(0, <-laterAt)
	if at.Before(released) {
		t.Errorf("the later test took the lock shared %s before the exclusive holder let it go", released.Sub(at))
	}
}

// startHelper runs this test in a helper process that holds the lock shared
// for a second; the channel gets when it took it.
func startHelper(t *testing.T) (*exec.Cmd, <-chan int64) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestExclusiveGoesBeforeLaterShared$")
	cmd.Env = append(os.Environ(), "DAEMONLOCK_HELPER=2")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Wait() })
	at := make(chan int64, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var n int64
			if _, err := fmt.Sscanf(sc.Text(), helperLocked+" %d", &n); err == nil {
				at <- n
			}
		}
	}()
	return cmd, at
}
