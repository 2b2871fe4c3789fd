package daemonlock_test

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/internal/daemonlock"
)

// TestExclusiveWaitsForShared runs a helper process that holds the lock
// shared for a moment; Exclusive must wait for it.
func TestExclusiveWaitsForShared(t *testing.T) {
	if os.Getenv("DAEMONLOCK_HELPER") == "1" {
		daemonlock.Shared(t)
		time.Sleep(time.Second)
		return
	}
	t.Setenv("SLIPWAY_RUN_DIR", t.TempDir())
	cmd := exec.Command(os.Args[0], "-test.run=^TestExclusiveWaitsForShared$")
	cmd.Env = append(os.Environ(), "DAEMONLOCK_HELPER=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	time.Sleep(300 * time.Millisecond) // the helper takes the lock
	start := time.Now()
	daemonlock.Exclusive(t)
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Errorf("Exclusive waited %s, want until the helper's shared lock ended", waited)
	}
	daemonlock.Shared(t) // inside the exclusive holder: no deadlock
}
