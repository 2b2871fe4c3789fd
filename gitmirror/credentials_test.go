package gitmirror_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/gitmirror"
	"github.com/slipway-dev/slipway/gitmirror/gittest"
)

// TestLoadCredentialsRefuses: every wrong, malformed or missing credential
// is refused at load with an error naming the file, the line and what is
// wrong, never the token.
func TestLoadCredentialsRefuses(t *testing.T) {
	const secret = "glpat-NeverPrintMe012345"
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	gittest.MustKey(t, key)
	known := mustFile(t, dir, "known_hosts", "[127.0.0.1]:2222 "+gittest.MustKey(t, filepath.Join(dir, "host"))+"\n")
	openToken := filepath.Join(dir, "open-token")
	if err := os.WriteFile(openToken, []byte(secret+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	emptyToken := mustFile(t, dir, "empty-token", "\n")
	garbageKey := mustFile(t, dir, "garbage-key", "-----BEGIN OPENSSH PRIVATE KEY-----\n"+secret+"\n-----END OPENSSH PRIVATE KEY-----\n")
	encryptedKey := filepath.Join(dir, "encrypted")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "a passphrase", "-f", encryptedKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	emptyKnown := mustFile(t, dir, "empty_known_hosts", "# nothing pinned\n")

	tests := []struct {
		name, content string
		mode          os.FileMode
		want          string
	}{
		{"readable by others", "host h token " + secret + "\n", 0o644, "has mode 0644: it must be accessible by its owner only"},
		{"unknown kind", "server h token " + secret + "\n", 0o600, `line 1: want "repo owner/name ..."`},
		{"unknown word", "\nhost h secret " + secret + "\n", 0o600, `line 2: unknown word "secret"`},
		{"token without value", "host h token\n", 0o600, "token has no value"},
		{"no credential", "host h user oauth2\n", 0o600, "no credential: want token, token-file or ssh-key"},
		{"token and key", "host h token " + secret + " ssh-key " + key + " known-hosts " + known + "\n", 0o600, "a token line takes no ssh-key"},
		{"token twice", "host h token " + secret + " token " + secret + "\n", 0o600, "token given twice"},
		{"repository without owner", "repo shop token " + secret + "\n", 0o600, `repository "shop": want owner/name`},
		{"duplicate", "repo acme/shop token " + secret + "\nrepo acme/shop token " + secret + "\n", 0o600, "line 2: repo acme/shop has a credential already"},
		{"token not ASCII", "host h token " + secret + "é\n", 0o600, "the token holds spaces or control characters"},
		{"user with a colon", "host h token " + secret + " user a:b\n", 0o600, "the user name holds a colon"},
		{"missing token file", "host h token-file " + filepath.Join(dir, "nope") + "\n", 0o600, "token file: open " + filepath.Join(dir, "nope") + ": no such file"},
		{"token file readable by others", "host h token-file " + openToken + "\n", 0o600, "token file " + openToken + " has mode 0644"},
		{"empty token file", "host h token-file " + emptyToken + "\n", 0o600, "token file " + emptyToken + " is empty"},
		{"key without known_hosts", "repo acme/shop ssh-key " + key + "\n", 0o600, "ssh-key without known-hosts: the host's key must be pinned"},
		{"missing key", "repo acme/shop ssh-key " + filepath.Join(dir, "nokey") + " known-hosts " + known + "\n", 0o600, "deploy key: open " + filepath.Join(dir, "nokey")},
		{"malformed key", "repo acme/shop ssh-key " + garbageKey + " known-hosts " + known + "\n", 0o600, "deploy key " + garbageKey + " is not an unencrypted private key ssh can read"},
		{"encrypted key", "repo acme/shop ssh-key " + encryptedKey + " known-hosts " + known + "\n", 0o600, "deploy key " + encryptedKey + " is not an unencrypted private key ssh can read"},
		{"missing known_hosts", "repo acme/shop ssh-key " + key + " known-hosts " + filepath.Join(dir, "nohosts") + "\n", 0o600, "known-hosts " + filepath.Join(dir, "nohosts") + ": not a readable regular file"},
		{"known_hosts without keys", "repo acme/shop ssh-key " + key + " known-hosts " + emptyKnown + "\n", 0o600, "known-hosts " + emptyKnown + " holds no host key"},
		{"ssh-url not ssh", "repo acme/shop ssh-key " + key + " known-hosts " + known + " ssh-url https://h/x.git\n", 0o600, "ssh-url must start with ssh://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "git-credentials")
			if err := os.WriteFile(path, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			c, err := gitmirror.LoadCredentials(path)
			if err == nil {
				t.Fatalf("loaded %d credentials, want an error saying %q", c.Len(), tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file %s", err, path)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q holds the token", err)
			}
		})
	}
}

// TestCredentialMismatch: a credential that cannot be used with the
// repository's clone URL is a permanent error before git runs, naming the
// repository and the credential, never the token.
func TestCredentialMismatch(t *testing.T) {
	const secret = "ghp_MismatchSecret0123456"
	tests := []struct {
		name, cloneURL, want string
	}{
		{"token for an SSH clone URL", "ssh://git@git.example.invalid/acme/shop.git", "the token of repo acme/shop (%s line 1) is for HTTPS, but the clone URL ssh://git.example.invalid/acme/shop.git is not"},
		{"token over plain HTTP to another host", "http://git.example.invalid/acme/shop.git", "refusing to send the token of repo acme/shop (%s line 1) over plain http to git.example.invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := mustFile(t, t.TempDir(), "git-credentials", "repo acme/shop token "+secret+"\n")
			c, err := gitmirror.LoadCredentials(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := gitmirror.New(t.TempDir(), gitmirror.WithCredentials(c))
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.ReadFile(t.Context(), events.Repo{FullName: "acme/shop", CloneURL: tt.cloneURL}, strings.Repeat("b", 40), "slipway.yaml")
			want := strings.ReplaceAll(tt.want, "%s", path)
			if err == nil || !events.IsPermanent(err) || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v: want a permanent one saying %q", err, want)
			}
			if strings.Contains(err.Error(), secret) || errors.Is(err, gitmirror.ErrAuth) {
				t.Errorf("error %q holds the token or claims the host refused it", err)
			}
		})
	}
}
