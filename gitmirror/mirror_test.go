package gitmirror_test

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/gitmirror"
	"github.com/slipway-dev/slipway/gitmirror/gittest"
)

func mustMirror(tb testing.TB) *gitmirror.Mirror {
	tb.Helper()
	m, err := gitmirror.New(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestReadFile(t *testing.T) {
	repo := gittest.MustRepo(t)
	repo.WriteFile("slipway.yaml", "version: 1\n")
	repo.WriteFile("services/web/Dockerfile", "FROM scratch\n")
	first := repo.Commit("first")
	repo.WriteFile("slipway.yaml", "version: 2\n")
	repo.Symlink("services/web/Dockerfile", "link")
	repo.Symlink("../../etc/passwd", "escape")
	repo.Symlink("nowhere", "dangling")
	second := repo.Commit("second")
	src := repo.Events("acme/shop")

	tests := []struct {
		name      string
		sha, path string
		want      string
		wantErr   error // checked with errors.Is; every error must be permanent
	}{
		{name: "file at head", sha: second, path: "slipway.yaml", want: "version: 2\n"},
		{name: "file at older commit", sha: first, path: "slipway.yaml", want: "version: 1\n"},
		{name: "nested file", sha: first, path: "services/web/Dockerfile", want: "FROM scratch\n"},
		{name: "symlink inside the tree", sha: second, path: "link", want: "FROM scratch\n"},
		{name: "missing file", sha: second, path: "nope.yaml", wantErr: fs.ErrNotExist},
		{name: "file added later", sha: first, path: "link", wantErr: fs.ErrNotExist},
		{name: "symlink out of the tree", sha: second, path: "escape", wantErr: fs.ErrNotExist},
		{name: "dangling symlink", sha: second, path: "dangling", wantErr: fs.ErrNotExist},
		{name: "directory", sha: second, path: "services/web"},
		{name: "parent escape", sha: second, path: "../slipway.yaml", wantErr: fs.ErrInvalid},
		{name: "absolute path", sha: second, path: "/slipway.yaml", wantErr: fs.ErrInvalid},
		{name: "newline in path", sha: second, path: "a\nb", wantErr: fs.ErrInvalid},
	}
	m := mustMirror(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.ReadFile(context.Background(), src, tt.sha, tt.path)
			if tt.want != "" {
				if err != nil || string(got) != tt.want {
					t.Fatalf("ReadFile() = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ReadFile() = %q, want an error", got)
			}
			if !events.IsPermanent(err) {
				t.Errorf("error is not permanent: %v", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v is not %v", err, tt.wantErr)
			}
		})
	}
}

func TestBadCommitIDs(t *testing.T) {
	repo := gittest.MustRepo(t)
	repo.WriteFile("a", "a")
	head := repo.Commit("a")
	tests := []struct {
		name string
		repo events.Repo
		sha  string
	}{
		{"unknown commit", repo.Events("acme/shop"), strings.Repeat("ab", 20)},
		{"branch name", repo.Events("acme/shop"), "main"},
		{"short id", repo.Events("acme/shop"), head[:12]},
		{"upper-case id", repo.Events("acme/shop"), strings.ToUpper(head)},
		{"option injection", repo.Events("acme/shop"), "--upload-pack=touch" + strings.Repeat("0", 21)},
		{"no clone URL", events.Repo{FullName: "acme/shop"}, head},
		{"no name", events.Repo{CloneURL: repo.URL()}, head},
		{"clone URL is an option", events.Repo{FullName: "acme/shop", CloneURL: "--upload-pack=touch /tmp/x"}, head},
	}
	m := mustMirror(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.ReadFile(context.Background(), tt.repo, tt.sha, "a")
			if !events.IsPermanent(err) {
				t.Errorf("ReadFile() error = %v, want permanent", err)
			}
			_, _, err = m.Checkout(context.Background(), tt.repo, tt.sha)
			if !events.IsPermanent(err) {
				t.Errorf("Checkout() error = %v, want permanent", err)
			}
		})
	}
}

// TestFetchesNewCommits checks that a mirror made for one commit fetches the
// next one, and that a commit no branch reaches is fetched by its id.
func TestFetchesNewCommits(t *testing.T) {
	repo := gittest.MustRepo(t)
	m := mustMirror(t)
	src := repo.Events("acme/shop")
	ctx := context.Background()

	repo.WriteFile("v", "1")
	mustRead(t, m, src, repo.Commit("one"), "v", "1")
	repo.WriteFile("v", "2")
	mustRead(t, m, src, repo.Commit("two"), "v", "2")

	repo.Git("checkout", "--quiet", "-b", "pr")
	repo.WriteFile("v", "pr")
	pr := repo.Commit("pull request")
	repo.Git("update-ref", "refs/pull/1/head", pr)
	repo.Git("checkout", "--quiet", "main")
	repo.Git("branch", "--quiet", "-D", "pr")
	if _, err := m.ReadFile(ctx, src, pr, "v"); err != nil {
		t.Fatalf("commit reachable only from refs/pull/1/head: %v", err)
	}
}

// TestMirrorOutlivesRemote checks that a second Mirror on the same directory
// reuses what the first fetched, without asking the remote.
func TestMirrorOutlivesRemote(t *testing.T) {
	repo := gittest.MustRepo(t)
	repo.WriteFile("v", "kept")
	sha := repo.Commit("one")
	src := repo.Events("acme/shop")
	dir := t.TempDir()
	m1, err := gitmirror.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	mustRead(t, m1, src, sha, "v", "kept")
	if err := os.RemoveAll(repo.Dir()); err != nil {
		t.Fatal(err)
	}
	m2, err := gitmirror.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	mustRead(t, m2, src, sha, "v", "kept")
	if _, err := os.Stat(filepath.Join(dir, events.KeyPart("acme/shop")+".git", "HEAD")); err != nil {
		t.Errorf("mirror not at its documented place: %v", err)
	}
}

func TestUnreachableRemoteIsRetryable(t *testing.T) {
	const secret = "s3cr3t-t0ken-value"
	tests := []struct {
		name string
		url  string
	}{
		{"closed port", "http://user:" + secret + "@" + closedAddr(t) + "/acme/shop.git"},
		{"token as user", "http://" + secret + "@" + closedAddr(t) + "/acme/shop.git"},
		{"missing file remote", "file://" + filepath.Join(t.TempDir(), "nope")},
	}
	m := mustMirror(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := events.Repo{FullName: "acme/" + tt.name, CloneURL: tt.url}
			_, err := m.ReadFile(context.Background(), src, strings.Repeat("0", 40), "a")
			var re *events.RetryableError
			if !errors.As(err, &re) || re.After <= 0 {
				t.Fatalf("error = %v, want retryable", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks the credentials: %v", err)
			}
		})
	}
}

func TestHTTPRemote(t *testing.T) {
	repo := gittest.MustRepo(t)
	repo.WriteFile("slipway.yaml", "version: 1\n")
	sha := repo.Commit("one")
	src := events.Repo{FullName: "acme/shop", CloneURL: repo.ServeHTTP(t)}
	m := mustMirror(t)
	mustRead(t, m, src, sha, "slipway.yaml", "version: 1\n")

	repo.Git("update-ref", "refs/pull/7/head", repo.Commit("not on a branch"))
	repo.Git("reset", "--quiet", "--hard", sha)
	pr := repo.Git("rev-parse", "refs/pull/7/head")
	if _, err := m.ReadFile(context.Background(), src, pr, "slipway.yaml"); err != nil {
		t.Fatalf("fetch by id over HTTP: %v", err)
	}
	_, err := m.ReadFile(context.Background(), src, strings.Repeat("1", 40), "slipway.yaml")
	if !events.IsPermanent(err) {
		t.Errorf("unknown commit over HTTP: error = %v, want permanent", err)
	}
}

func TestContextCanceled(t *testing.T) {
	repo := gittest.MustRepo(t)
	repo.WriteFile("a", "a")
	sha := repo.Commit("a")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := mustMirror(t).ReadFile(ctx, repo.Events("acme/shop"), sha, "a")
	if err == nil || events.IsPermanent(err) {
		t.Errorf("error = %v, want a non-permanent error", err)
	}
}

func mustRead(tb testing.TB, m *gitmirror.Mirror, src events.Repo, sha, path, want string) {
	tb.Helper()
	got, err := m.ReadFile(context.Background(), src, sha, path)
	if err != nil || string(got) != want {
		tb.Fatalf("ReadFile(%s, %s) = %q, %v; want %q", sha[:8], path, got, err, want)
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
