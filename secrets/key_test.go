package secrets_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/secrets"
)

// TestEnsureKeyWritesOnceAndPrivately: the first call writes a 0600 key in
// a 0700 directory; later calls read the same key; a key others may read
// is refused, naming the file.
func TestEnsureKeyWritesOnceAndPrivately(t *testing.T) {
	path := secrets.KeyFile(t.TempDir())
	k1, err := secrets.EnsureKey(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", info.Mode(), err)
	}
	if dir, _ := os.Stat(filepath.Dir(path)); dir.Mode().Perm() != 0o700 {
		t.Errorf("key directory mode %v, want 0700", dir.Mode())
	}
	k2, err := secrets.EnsureKey(path)
	if err != nil || k2.Recipient() != k1.Recipient() || !strings.HasPrefix(k1.Recipient(), "age1") {
		t.Fatalf("second EnsureKey: %v, recipient %s; want the first one's (%s)", err, k2.Recipient(), k1.Recipient())
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.LoadKey(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("LoadKey of a 0644 key = %v, want a refusal naming the file", err)
	}
}

// TestLoadKeyRefusesMalformedFiles: a file that is not one age identity is
// refused, naming the file and never repeating its content.
func TestLoadKeyRefusesMalformedFiles(t *testing.T) {
	for name, content := range map[string]string{
		"empty":     "",
		"garbage":   "AGE-SECRET-KEY-1NOTAKEY\n",
		"nats seed": "SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTC4\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "age.key")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := secrets.LoadKey(path)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("LoadKey = %v, want an error naming %s", err, path)
			}
			if content != "" && strings.Contains(err.Error(), strings.TrimSpace(content)) {
				t.Errorf("error %q repeats the file's content", err)
			}
		})
	}
}

// TestSealNeedsOnlyTheRecipient: a value sealed with the recipient alone
// is not in the sealed bytes, opens with the key, and does not open with
// another key, whose error names its file and never the value.
func TestSealNeedsOnlyTheRecipient(t *testing.T) {
	key, err := secrets.EnsureKey(filepath.Join(t.TempDir(), "age.key"))
	if err != nil {
		t.Fatal(err)
	}
	value := []byte("postgres://app:hunter2@db/shop")
	sealed, err := secrets.Seal(key.Recipient(), value)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, value) || bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("the sealed bytes hold the value")
	}
	got, err := key.Open(sealed)
	if err != nil || !bytes.Equal(got, value) {
		t.Fatalf("Open = %q, %v; want the value", got, err)
	}
	other, err := secrets.EnsureKey(filepath.Join(t.TempDir(), "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.Open(sealed)
	if !errors.Is(err, secrets.ErrWrongKey) || !strings.Contains(err.Error(), other.Path()) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open with another key = %v, want ErrWrongKey naming %s", err, other.Path())
	}
	if _, err := key.Open([]byte("not sealed")); err == nil || errors.Is(err, secrets.ErrWrongKey) {
		t.Errorf("Open of garbage = %v, want another error", err)
	}
	for _, r := range []string{"", "age1nope", "ssh-ed25519 AAAA"} {
		if _, err := secrets.Seal(r, value); err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Seal(%q) = %v, want an error without the value", r, err)
		}
	}
	if _, err := secrets.Seal(key.Recipient(), make([]byte, secrets.MaxValue+1)); err == nil {
		t.Error("Seal of a value above MaxValue succeeded")
	}
}

// TestEnsureKeyConcurrently: deployers starting at once end with one key.
func TestEnsureKeyConcurrently(t *testing.T) {
	path := secrets.KeyFile(t.TempDir())
	const n = 8
	got := make(chan string, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			k, err := secrets.EnsureKey(path)
			if err != nil {
				errs <- err
				return
			}
			got <- k.Recipient()
		}()
	}
	first := ""
	for range n {
		select {
		case err := <-errs:
			t.Fatal(err)
		case r := <-got:
			if first == "" {
				first = r
			} else if r != first {
				t.Fatalf("two keys: %s and %s", first, r)
			}
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("%d files beside the key, want none", len(entries)-1)
	}
}
