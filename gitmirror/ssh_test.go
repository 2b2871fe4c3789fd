package gitmirror_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/gitmirror"
	"github.com/slipway-dev/slipway/gitmirror/gittest"
)

// mustFile writes content to a new private file in dir.
func mustFile(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// TestDeployKey fetches over SSH from a real sshd whose authorized key runs
// git-shell only: the deploy key with the pinned host key reads the file
// (also when the event's clone URL is HTTPS, through ssh-url); another
// key is a permanent ErrAuth, another host key a permanent ErrHostKey,
// each naming the repository and the credential.
func TestDeployKey(t *testing.T) {
	sshd := gittest.MustSSHD(t)
	keys := t.TempDir()
	sshd.Authorize(gittest.MustKey(t, filepath.Join(keys, "deploy")))
	gittest.MustKey(t, filepath.Join(keys, "stranger"))
	goodHosts := mustFile(t, keys, "known_hosts", sshd.KnownHosts())
	otherHost := gittest.MustKey(t, filepath.Join(keys, "otherhost"))
	otherHosts := mustFile(t, keys, "other_known_hosts", strings.Replace(sshd.KnownHosts(), "[127.0.0.1]", "[127.0.0.2]", 1))
	wrongHosts := mustFile(t, keys, "wrong_known_hosts", strings.Split(sshd.KnownHosts(), " ")[0]+" "+otherHost+"\n")

	repo := gittest.MustRepo(t)
	repo.WriteFile("slipway.yaml", "version: 1\n")
	sha := repo.Commit("private")
	bare := filepath.Join(t.TempDir(), "acme", "shop.git")
	repo.Git("clone", "--quiet", "--bare", repo.Dir(), bare)
	sshURL := sshd.URL(bare)

	tests := []struct {
		name, cloneURL, creds string
		wantErr               error
		wantMsg               []string
	}{
		{"deploy key of the repository, HTTPS clone URL", "https://git.example.invalid/acme/shop.git",
			"repo acme/shop ssh-key " + filepath.Join(keys, "deploy") + " known-hosts " + goodHosts + " ssh-url " + sshURL + "\n", nil, nil},
		{"deploy key of the host, SSH clone URL", sshURL,
			"host 127.0.0.1 ssh-key " + filepath.Join(keys, "deploy") + " known-hosts " + goodHosts + "\n", nil, nil},
		{"wrong key", sshURL,
			"repo acme/shop ssh-key " + filepath.Join(keys, "stranger") + " known-hosts " + goodHosts + "\n",
			gitmirror.ErrAuth, []string{"repository acme/shop", "refused the deploy key of repo acme/shop", "Permission denied"}},
		{"unknown host key", sshURL,
			"repo acme/shop ssh-key " + filepath.Join(keys, "deploy") + " known-hosts " + wrongHosts + "\n",
			gitmirror.ErrHostKey, []string{"repository acme/shop", "not one pinned in " + wrongHosts, "deploy key of repo acme/shop", "Host key verification failed"}},
		{"host not pinned", sshURL,
			"repo acme/shop ssh-key " + filepath.Join(keys, "deploy") + " known-hosts " + otherHosts + "\n",
			gitmirror.ErrHostKey, []string{"repository acme/shop", "not one pinned in " + otherHosts, "Host key verification failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := gitmirror.New(t.TempDir(), gitmirror.WithCredentials(MustCredentials(t, tt.creds)), gitmirror.WithTimeout(30*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.ReadFile(t.Context(), events.Repo{FullName: "acme/shop", CloneURL: tt.cloneURL}, sha, "slipway.yaml")
			if tt.wantErr == nil {
				if err != nil || string(got) != "version: 1\n" {
					t.Fatalf("ReadFile = %q, %v; want the file", got, err)
				}
				return
			}
			t.Logf("error: %v", err)
			if !errors.Is(err, tt.wantErr) || !events.IsPermanent(err) {
				t.Fatalf("error %v: want a permanent %v", err, tt.wantErr)
			}
			for _, w := range tt.wantMsg {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
