package pipeline

import (
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
