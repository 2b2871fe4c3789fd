package gitmirror_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/gitmirror"
	"github.com/slipway-dev/slipway/gitmirror/gittest"
	"github.com/slipway-dev/slipway/gitserver"
)

const (
	goodToken = "glpat-GoodToken0123456789"
	badToken  = "glpat-WrongToken987654321"
)

// MustCredentials writes content as a private credentials file and loads it.
func MustCredentials(tb testing.TB, content string) *gitmirror.Credentials {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "git-credentials")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	c, err := gitmirror.LoadCredentials(path)
	if err != nil {
		tb.Fatalf("load credentials: %v", err)
	}
	return c
}

// mustPrivateServer serves acme/shop, holding slipway.yaml, with gitserver
// behind basic authentication as oauth2 and goodToken.
func mustPrivateServer(tb testing.TB) (*gitserver.Server, string) {
	tb.Helper()
	repo := gittest.MustRepo(tb)
	repo.WriteFile("slipway.yaml", "version: 1\n")
	sha := repo.Commit("private")
	root := tb.TempDir()
	repo.Git("clone", "--quiet", "--bare", repo.Dir(), filepath.Join(root, "acme", "shop.git"))
	srv, err := gitserver.Start(root, "127.0.0.1:0", gitserver.WithBasicAuth("oauth2", goodToken))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	return srv, sha
}

// secretForms are the ways a token could leak: as it is and inside a
// basic authentication header.
func secretForms(user, token string) []string {
	return []string{token, base64.StdEncoding.EncodeToString([]byte(user + ":" + token))}
}

// assertNoSecretIn fails if a file below dir holds one of secrets.
func assertNoSecretIn(tb testing.TB, dir string, secrets []string) {
	tb.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		files++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				tb.Errorf("%s holds the token", path)
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if files == 0 {
		tb.Fatalf("no file below %s: the scan proves nothing", dir)
	}
}

// TestPrivateHTTPS fetches a repository of the project's gitserver behind
// HTTP basic authentication: the right token reads the file; a wrong one,
// or none, is a permanent ErrAuth naming the repository and the
// credential, and the token is in no error and no file of the mirror.
func TestPrivateHTTPS(t *testing.T) {
	srv, sha := mustPrivateServer(t)
	host := strings.TrimPrefix(strings.Split(srv.URL("acme/shop"), "/")[2], "")
	tests := []struct {
		name, creds string
		token       string
		wantErr     []string // in the error; nil: success
	}{
		{"right token of the host", "host " + host + " token " + goodToken + " user oauth2\n", goodToken, nil},
		{"right token of the repository wins over a wrong one of the host",
			"host " + host + " token " + badToken + " user oauth2\nrepo acme/shop token " + goodToken + " user oauth2\n", goodToken, nil},
		{"wrong token", "# a comment\n\nhost 127.0.0.1 token " + badToken + " user oauth2\n", badToken,
			[]string{"repository acme/shop", "authentication failed", "refused the token of host 127.0.0.1", "line 3"}},
		{"wrong user", "repo acme/shop token " + goodToken + "\n", goodToken,
			[]string{"repository acme/shop", "authentication failed", "token of repo acme/shop"}},
		{"no credential", "repo acme/other token " + goodToken + "\n", goodToken,
			[]string{"repository acme/shop", "authentication failed", "none is configured"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			m, err := gitmirror.New(dir, gitmirror.WithCredentials(MustCredentials(t, tt.creds)), gitmirror.WithTimeout(20*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			repo := events.Repo{FullName: "acme/shop", CloneURL: srv.URL("acme/shop")}
			got, err := m.ReadFile(t.Context(), repo, sha, "slipway.yaml")
			if tt.wantErr == nil {
				if err != nil || string(got) != "version: 1\n" {
					t.Fatalf("ReadFile = %q, %v; want the file", got, err)
				}
			} else {
				if err == nil {
					t.Fatalf("ReadFile succeeded, want %q", tt.wantErr)
				}
				t.Logf("error: %v", err)
				if !errors.Is(err, gitmirror.ErrAuth) || !events.IsPermanent(err) {
					t.Errorf("error %v: want a permanent ErrAuth", err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				for _, s := range secretForms("oauth2", tt.token) {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q holds the token", err)
					}
				}
			}
			assertNoSecretIn(t, dir, append(secretForms("oauth2", goodToken), secretForms("oauth2", badToken)...))
		})
	}
}

// TestTokenNotOnCommandLine holds a fetch in a server that has checked the
// token, and reads the command line of every process meanwhile: the token
// is on none, while git's (which names the URL) is there to be read.
func TestTokenNotOnCommandLine(t *testing.T) {
	const user, token = "x-access-token", "ghs_CommandLineSecret0123"
	authed := make(chan struct{}, 16)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		authed <- struct{}{}
		<-release
		http.Error(w, "gone", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	defer close(release)
	m, err := gitmirror.New(t.TempDir(), gitmirror.WithCredentials(MustCredentials(t, "repo acme/slow token "+token+"\n")))
	if err != nil {
		t.Fatal(err)
	}
	url := srv.URL + "/acme/slow.git"
	done := make(chan error, 1)
	go func() {
		_, err := m.ReadFile(t.Context(), events.Repo{FullName: "acme/slow", CloneURL: url}, strings.Repeat("a", 40), "slipway.yaml")
		done <- err
	}()
	select {
	case <-authed:
	case err := <-done:
		t.Fatalf("fetch ended before it reached the server with the token: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the fetch never reached the server with the token")
	}
	seen := 0
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err != nil {
			continue // the process ended
		}
		if bytes.Contains(cmdline, []byte(url)) {
			seen++
		}
		for _, s := range secretForms(user, token) {
			if bytes.Contains(cmdline, []byte(s)) {
				t.Errorf("%s holds the token: %q", p, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
			}
		}
	}
	if seen == 0 {
		t.Fatal("no process names the fetch's URL: the scan proves nothing")
	}
	t.Logf("%d processes fetching, none with the token on its command line", seen)
}
