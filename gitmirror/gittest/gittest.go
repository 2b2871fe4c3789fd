// Package gittest makes real git repositories for tests: created with git
// init in a temporary directory, committed to with the git command-line tool,
// and served over file:// or over HTTP by git http-backend.
//
// Every helper fails the test on error; nothing needs cleaning up by hand.
package gittest

import (
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
)

// Repo is a git repository with a working tree, on branch main.
type Repo struct {
	tb  testing.TB
	dir string
	git string
}

// MustRepo creates an empty repository in a temporary directory. It serves
// commits by id to fetches (uploadpack.allowReachableSHA1InWant), like the
// big git hosts do.
func MustRepo(tb testing.TB) *Repo {
	tb.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		tb.Fatalf("gittest: git is not installed: %v", err)
	}
	r := &Repo{tb: tb, dir: filepath.Join(tb.TempDir(), "repo"), git: git}
	r.Git("init", "--quiet", "--initial-branch=main", r.dir)
	r.Git("config", "user.name", "Slipway Test")
	r.Git("config", "user.email", "test@slipway.invalid")
	r.Git("config", "commit.gpgsign", "false")
	r.Git("config", "uploadpack.allowReachableSHA1InWant", "true")
	r.Git("config", "uploadpack.allowTipSHA1InWant", "true")
	return r
}

// Dir returns the path of the working tree.
func (r *Repo) Dir() string { return r.dir }

// URL returns the file:// clone URL of the repository.
func (r *Repo) URL() string { return "file://" + filepath.ToSlash(r.dir) }

// Events returns the repository as events name it, cloned from URL.
func (r *Repo) Events(fullName string) events.Repo {
	return events.Repo{Forge: "gittest", FullName: fullName, CloneURL: r.URL(), DefaultBranch: "main"}
}

// WriteFile writes content to path (slash-separated, relative to the root of
// the working tree), creating directories as needed. Commit records it.
func (r *Repo) WriteFile(path, content string) {
	r.tb.Helper()
	name := filepath.Join(r.dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		r.tb.Fatalf("gittest: %v", err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		r.tb.Fatalf("gittest: %v", err)
	}
}

// Symlink creates path as a symbolic link to target.
func (r *Repo) Symlink(target, path string) {
	r.tb.Helper()
	name := filepath.Join(r.dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		r.tb.Fatalf("gittest: %v", err)
	}
	if err := os.Symlink(target, name); err != nil {
		r.tb.Fatalf("gittest: %v", err)
	}
}

// Remove deletes path (a file or a directory) from the working tree.
func (r *Repo) Remove(path string) {
	r.tb.Helper()
	if err := os.RemoveAll(filepath.Join(r.dir, filepath.FromSlash(path))); err != nil {
		r.tb.Fatalf("gittest: %v", err)
	}
}

// Commit records every change of the working tree on the current branch and
// returns the id of the new commit.
func (r *Repo) Commit(msg string) string {
	r.tb.Helper()
	r.Git("add", "--all")
	r.Git("commit", "--quiet", "--allow-empty", "--no-verify", "-m", msg)
	return r.Git("rev-parse", "HEAD")
}

// Git runs git with args in the working tree and returns its trimmed output.
func (r *Repo) Git(args ...string) string {
	r.tb.Helper()
	cmd := exec.Command(r.git, args...)
	cmd.Dir = filepath.Dir(r.dir)
	if _, err := os.Stat(r.dir); err == nil {
		cmd.Dir = r.dir
	}
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.tb.Fatalf("gittest: git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// ServeHTTP serves the repository read-only over HTTP with git http-backend
// on a random port of 127.0.0.1 until the test ends, and returns its clone
// URL.
func (r *Repo) ServeHTTP(tb testing.TB) string {
	tb.Helper()
	h := &cgi.Handler{
		Path: r.git,
		Args: []string{"http-backend"},
		Env: []string{
			"GIT_PROJECT_ROOT=" + filepath.Dir(r.dir),
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"GIT_CONFIG_GLOBAL=/dev/null",
		},
		Stderr: logWriter{tb},
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv.URL + "/" + filepath.Base(r.dir)
}

// logWriter sends what git http-backend says to the test log.
type logWriter struct{ tb testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.tb.Logf("git http-backend: %s", strings.TrimSpace(string(p)))
	return len(p), nil
}
