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
