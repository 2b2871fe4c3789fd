package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
)

// KeyFile is the path of the key file under a data directory:
// <data-dir>/secrets/age.key.
func KeyFile(dataDir string) string { return filepath.Join(dataDir, "secrets", "age.key") }

// ErrWrongKey is wrapped by Key.Open when a sealed value was sealed for
// another recipient than the key's.
var ErrWrongKey = errors.New("sealed for another key")

// Key is an age X25519 identity read from a key file.
type Key struct {
	path string
	id   *age.X25519Identity
}

// EnsureKey returns the key in path, writing a new one there first (its
// directory 0700, the file 0600) when there is none. An existing file is
// never overwritten.
func EnsureKey(path string) (*Key, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := writeKey(path); err != nil {
			return nil, err
		}
	}
	return LoadKey(path)
}

// LoadKey reads the key in path. A file that group or others may read or
// write, or that holds no age X25519 identity, is refused.
func LoadKey(path string) (*Key, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("secrets key file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("secrets key file %s: not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("secrets key file %s: mode %04o lets group or others read it; chmod 600 it", path, perm)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secrets key file: %w", err)
	}
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil || len(ids) != 1 {
		return nil, fmt.Errorf("secrets key file %s: not one age identity (AGE-SECRET-KEY-1…)", path)
	}
	id, ok := ids[0].(*age.X25519Identity)
	if !ok {
		return nil, fmt.Errorf("secrets key file %s: not an age X25519 identity", path)
	}
	return &Key{path: path, id: id}, nil
}

// writeKey writes a new identity to path, readable by its owner only. The
// key is written to a temporary file then linked into place, so that of
// two processes starting at once one key wins and the other reads it
// whole.
func writeKey(path string) error {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return fmt.Errorf("secrets key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("secrets key: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".age.key-*")
	if err != nil {
		return fmt.Errorf("secrets key: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = fmt.Fprintf(f, "# public key: %s\n%s\n", id.Recipient(), id)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o600)
	}
	if err == nil {
		err = os.Link(f.Name(), path)
	}
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("secrets key %s: %w", path, err)
	}
	return nil
}

// Path is the key file the key was read from.
func (k *Key) Path() string { return k.path }

// Recipient is the public half of the key ("age1…"), which seals values
// the key opens.
func (k *Key) Recipient() string { return k.id.Recipient().String() }

// Open returns the value sealed in sealed. A value sealed for another
// recipient is an error wrapping ErrWrongKey; the error names the key
// file, never the value.
func (k *Key) Open(sealed []byte) ([]byte, error) {
	r, err := age.Decrypt(bytes.NewReader(sealed), k.id)
	var noMatch *age.NoIdentityMatchError
	if errors.As(err, &noMatch) {
		return nil, fmt.Errorf("open with key file %s (recipient %s): %w", k.path, k.Recipient(), ErrWrongKey)
	}
	if err != nil {
		return nil, fmt.Errorf("open with key file %s: not a sealed value", k.path)
	}
	v, err := io.ReadAll(io.LimitReader(r, MaxValue+1))
	if err != nil {
		return nil, fmt.Errorf("open with key file %s: damaged sealed value", k.path)
	}
	return v, nil
}

// MaxValue is the largest value Seal seals: what one environment variable
// of a container may hold.
const MaxValue = 128 << 10

// Seal seals value for recipient ("age1…"): only the recipient's identity
// opens it.
func Seal(recipient string, value []byte) ([]byte, error) {
	if len(value) > MaxValue {
		return nil, fmt.Errorf("seal: value is %d bytes, more than the limit of %d", len(value), MaxValue)
	}
	r, err := age.ParseX25519Recipient(strings.TrimSpace(recipient))
	if err != nil {
		return nil, fmt.Errorf("seal: recipient %q is not an age X25519 public key", clip(recipient))
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if _, err := w.Write(value); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return buf.Bytes(), nil
}

// clip bounds what of a malformed recipient an error repeats.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
