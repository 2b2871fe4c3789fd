package pipeline

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events/natsjs"
)

// TestDataDirLock: one `slipway up` at a time holds a data directory, under
// an identity that survives restarts, and a holder killed with SIGKILL
// leaves the lock to the next start at once.
func TestDataDirLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockDataDir(dir); err == nil || !strings.Contains(err.Error(), "in use by another slipway up") {
		t.Fatalf("second lock: %v, want in use", err)
	}
	id := first.identity
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := lockDataDir(dir)
	if err != nil || again.identity != id || !strings.HasPrefix(id, "up/") {
		t.Fatalf("after release: %+v, %v; want the identity %s again", again, err, id)
	}
	again.Close()

	// A process holding it is killed: the lock is free at once.
	holder := exec.Command("flock", "--no-fork", "-x", filepath.Join(dir, lockFile), "sleep", "60")
	if err := holder.Start(); err != nil {
		t.Fatalf("flock(1) of util-linux: %v", err)
	}
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, err := lockDataDir(dir)
		if err != nil {
			break // the child holds it
		}
		l.Close()
		if time.Now().After(deadline) {
			t.Fatal("the child never took the lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = holder.Process.Signal(syscall.SIGKILL)
	_ = holder.Wait()
	l, err := lockDataDir(dir)
	if err != nil || l.identity != id {
		t.Fatalf("after kill -9 of the holder: %v (identity %v), want the lock and identity %s", err, l, id)
	}
	l.Close()
}

func TestCheckWorkerID(t *testing.T) {
	tests := []struct {
		id      string
		wantErr bool
	}{
		{"", false}, {"builder-0", false}, {"pod/slipway-1", false},
		{"two words", true}, {"line\nbreak", true}, {strings.Repeat("a", 129), true},
	}
	for _, tt := range tests {
		if err := checkWorkerID(tt.id); (err != nil) != tt.wantErr {
			t.Errorf("checkWorkerID(%q) = %v, want error %v", tt.id, err, tt.wantErr)
		}
	}
}

// TestUpHoldsItsDataDir: a second `slipway up` on the data directory of a
// running one is refused before it starts a server; the first one's
// builder and deployer lease in the data directory's identity, and a new
// start after Close gets the directory and the identity again.
func TestUpHoldsItsDataDir(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir, cfg.NATSPort, cfg.HTTPAddr = t.TempDir(), -1, "127.0.0.1:0"
	ctx := context.Background()
	first := &Up{Config: cfg}
	if err := first.Open(ctx); err != nil {
		t.Fatal(err)
	}
	second := &Up{Config: cfg}
	if err := second.Open(ctx); err == nil || !strings.Contains(err.Error(), "in use by another slipway up") {
		second.Close()
		t.Fatalf("second slipway up on the data dir: %v, want refused", err)
	}
	id := first.roles[natsjs.RoleBuilder].identity
	if !strings.HasPrefix(id, "up/") || first.roles[natsjs.RoleDeployer].identity != id {
		t.Errorf("identities %q, %q; want the data directory's", id, first.roles[natsjs.RoleDeployer].identity)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again := &Up{Config: cfg}
	if err := again.Open(ctx); err != nil {
		t.Fatalf("after Close: %v", err)
	}
	defer again.Close()
	if got := again.roles[natsjs.RoleBuilder].identity; got != id {
		t.Errorf("identity after a restart %q, want %q", got, id)
	}
}
