package gitmirror

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// runPrefix starts the directory of checkouts of one Mirror, which holds a
// lock on the file runLock inside it for as long as its process lives.
const (
	runPrefix = "run-"
	runLock   = ".lock"
)

// legacyAge is how old a checkout of the layout before runs (directly under
// checkouts/) must be to be removed at start: no process of that version
// holds it any more.
const legacyAge = time.Hour

// ownCheckouts creates this Mirror's checkouts directory under root, locked
// for the life of the process, after removing what processes that are gone
// left there (killed mid-build, a checkout is never released): every run
// directory whose lock no process holds, and checkouts of the earlier
// layout older than legacyAge. Several processes may share root.
func ownCheckouts(root string) (string, error) {
	sweepCheckouts(root)
	dir, err := os.MkdirTemp(root, runPrefix)
	if err != nil {
		return "", fmt.Errorf("create checkouts dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, runLock), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return "", fmt.Errorf("create checkouts lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return "", fmt.Errorf("lock checkouts dir: %w", err)
	}
	// f stays open, and so locked, until the process ends.
	return dir, nil
}

// sweepCheckouts removes the stale checkouts under root.
func sweepCheckouts(root string) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		if !strings.HasPrefix(e.Name(), runPrefix) {
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > legacyAge {
				_ = os.RemoveAll(p)
			}
			continue
		}
		if stale(p) {
			_ = os.RemoveAll(p)
		}
	}
}

// stale reports whether no process holds the lock of the run directory p.
func stale(p string) bool {
	f, err := os.Open(filepath.Join(p, runLock))
	if errors.Is(err, os.ErrNotExist) {
		fi, serr := os.Stat(p) // being created: give it a minute
		return serr == nil && time.Since(fi.ModTime()) > time.Minute
	}
	if err != nil {
		return false
	}
	defer f.Close()
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
}
