package gitmirror_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/gitmirror"
)

// TestStaleCheckoutsRemovedAtStart: a new Mirror removes the checkouts of
// processes that are gone (their run directory's lock is free; old
// checkouts of the earlier layout) and keeps those of a live process.
func TestStaleCheckoutsRemovedAtStart(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "checkouts")
	mk := func(p string) string {
		t.Helper()
		full := filepath.Join(root, p)
		if err := os.MkdirAll(full, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(full, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return full
	}
	dead := mk("run-dead/acme_2fshop-0123456789ab-1")
	if err := os.WriteFile(filepath.Join(root, "run-dead", ".lock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	live := mk("run-live/acme_2fshop-0123456789ab-2")
	lock := filepath.Join(root, "run-live", ".lock")
	if err := os.WriteFile(lock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	holder := exec.Command("flock", "--no-fork", "-x", lock, "sleep", "60")
	if err := holder.Start(); err != nil {
		t.Fatalf("flock(1) of util-linux: %v", err)
	}
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	waitLocked(t, lock)
	oldLegacy := mk("acme_2fshop-0123456789ab-3")
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(oldLegacy, past, past); err != nil {
		t.Fatal(err)
	}
	newLegacy := mk("acme_2fshop-0123456789ab-4")

	if _, err := gitmirror.New(dir); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{dead: false, live: true, oldLegacy: false, newLegacy: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", p, err == nil, want)
		}
	}
}

// waitLocked waits until a process holds the lock of path.
func waitLocked(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if exec.Command("flock", "-n", "-x", path, "true").Run() != nil {
			return
		}
	}
	t.Fatal("the holder never took the lock")
}
