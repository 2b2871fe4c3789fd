package pipeline

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/google/uuid"
)

// bootID names this start of the process in the leases it takes: a
// restarted worker of the same identity (Conn.identity) has another, which
// proves the leases of the earlier one are its dead predecessor's.
var bootID = uuid.NewString()

// Files of the data directory that name `slipway up` across restarts.
const (
	lockFile     = "slipway.lock"
	identityFile = "worker-id"
)

// dataDirLock is the exclusive lock of `slipway up` on its data directory:
// one process at a time runs on it, so the process holding it knows the
// leases of its identity taken in another boot are of a process that is
// gone. The kernel releases it when the process dies, kill -9 included.
type dataDirLock struct {
	f        *os.File
	identity string
}

// lockDataDir takes the lock of dir, creating dir when needed, and returns
// it with the identity recorded in dir (written at the first start). A
// directory another process holds is an error naming it.
func lockDataDir(dir string) (*dataDirLock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open data dir lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data dir %s is in use by another slipway up (its lock %s is held)", dir, lockFile)
		}
		return nil, fmt.Errorf("lock data dir %s: %w", dir, err)
	}
	id, err := dataDirIdentity(dir)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &dataDirLock{f: f, identity: "up/" + id}, nil
}

// dataDirIdentity returns the identity recorded in dir, recording a new
// one the first time.
func dataDirIdentity(dir string) (string, error) {
	p := filepath.Join(dir, identityFile)
	b, err := os.ReadFile(p)
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	raw := make([]byte, 8)
	_, _ = rand.Read(raw)
	id := hex.EncodeToString(raw)
	if err := os.WriteFile(p, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", p, err)
	}
	return id, nil
}

// Close releases the lock.
func (l *dataDirLock) Close() error {
	if l == nil {
		return nil
	}
	return l.f.Close()
}

// checkWorkerID reports an unusable -worker-id.
func checkWorkerID(id string) error {
	if len(id) > 128 || strings.IndexFunc(id, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return fmt.Errorf("worker id %q: want at most 128 printable characters without spaces", id)
	}
	return nil
}
