package gitmirror

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/build"
)

var _ build.Source = (*Mirror)(nil)

// RetryAfter is the delay a Retryable error from an unreachable remote asks for.
const RetryAfter = 5 * time.Second

// attributes disable the export attributes of the user's .gitattributes, so
// that an archive is the commit's tree byte for byte.
const attributes = "* -export-subst -export-ignore\n"

// Mirror is a build.Source backed by bare git mirrors in one directory.
type Mirror struct {
	dir       string
	checkouts string
	gitPath   string
	env       []string
	// timeout bounds each git network operation (network.go), lockWait the
	// wait for another fetch of the same repository; sshCommand is the
	// GIT_SSH_COMMAND of fetches, empty when the operator chose one.
	timeout, lockWait time.Duration
	sshCommand        string
	creds             *Credentials

	mu    sync.Mutex
	locks map[string]chan struct{} // one fetch at a time per repository
	// commits are those found in the mirrors (hasCommit).
	commits present
}

// New returns a Mirror keeping its repositories in dir, which it creates if
// needed, and checkouts in a directory of its own under dir/checkouts,
// removing there what processes that are gone left behind (checkouts.go). It fails if git is not installed.
// Every git network operation is bounded by DefaultTimeout unless
// WithTimeout says otherwise.
func New(dir string, opts ...Option) (*Mirror, error) {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("find git: %w", err)
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolve mirror dir: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "checkouts"), 0o755); err != nil {
		return nil, fmt.Errorf("create mirror dir: %w", err)
	}
	checkouts, err := ownCheckouts(filepath.Join(dir, "checkouts"))
	if err != nil {
		return nil, err
	}
	m := &Mirror{dir: dir, checkouts: checkouts, gitPath: gitPath, env: gitEnv(), timeout: DefaultTimeout, locks: map[string]chan struct{}{}}
	for _, o := range opts {
		o(m)
	}
	if m.lockWait <= 0 {
		m.lockWait = defaultLockWait(m.timeout)
	}
	if !sshConfigured(gitPath, m.env) {
		m.sshCommand = sshCommand
	}
	return m, nil
}

// ensure returns the mirror of repo, fetching sha into it when missing.
func (m *Mirror) ensure(ctx context.Context, repo events.Repo, sha string) (string, error) {
	if err := checkRepo(repo, sha); err != nil {
		return "", events.Permanent(err)
	}
	gitDir := filepath.Join(m.dir, events.RepoKey(repo.FullName)+".git")
	if m.hasCommit(ctx, gitDir, sha) {
		return gitDir, nil
	}
	unlock, err := m.lockRepo(ctx, gitDir)
	switch {
	case err != nil && ctx.Err() != nil:
		return "", fmt.Errorf("fetch %s: %w", redactURL(repo.CloneURL), err)
	case err != nil:
		return "", events.Retryable(fmt.Errorf("fetch %s: %w", redactURL(repo.CloneURL), err), RetryAfter)
	}
	defer unlock()
	if err := m.initMirror(ctx, gitDir); err != nil {
		return "", err
	}
	if m.hasCommit(ctx, gitDir, sha) { // fetched while we waited for the lock
		return gitDir, nil
	}
	if err := m.fetch(ctx, gitDir, repo, sha); err != nil {
		return gitDir, err
	}
	m.maintain(ctx, gitDir)
	return gitDir, nil
}

// fetchArgs start every fetch. fetch.unpackLimit=1 keeps what a fetch
// brings as one pack, which appears at once when its index is renamed into
// place; by default git explodes a small fetch into loose objects written one
// by one, commits first, and a checkout that finds the commit without taking
// the lock (ensure) could read it before its tree has landed.
var fetchArgs = []string{"-c", "fetch.unpackLimit=1", "fetch", "--quiet", "--no-tags"}

// fetch brings sha into gitDir: every branch first, then the commit by id.
func (m *Mirror) fetch(ctx context.Context, gitDir string, repo events.Repo, sha string) error {
	a, err := m.access(repo)
	if err != nil {
		return err
	}
	url := a.url
	safe := redactURL(url)
	if _, err := m.remote(ctx, gitDir, a, slices.Concat(fetchArgs, []string{"--prune", url, "+refs/heads/*:refs/heads/*"})...); err != nil {
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("fetch %s: %w", safe, ctx.Err())
		case events.IsPermanent(err):
			return fmt.Errorf("fetch %s: %w", safe, err)
		}
		return events.Retryable(fmt.Errorf("fetch %s: %w", safe, err), RetryAfter)
	}
	if m.hasCommit(ctx, gitDir, sha) {
		return nil
	}
	_, err = m.remote(ctx, gitDir, a, slices.Concat(fetchArgs, []string{url, sha + ":refs/slipway/" + sha})...)
	switch {
	case err == nil && m.hasCommit(ctx, gitDir, sha):
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("fetch %s from %s: %w", sha, safe, ctx.Err())
	case events.IsPermanent(err):
		return fmt.Errorf("fetch %s from %s: %w", sha, safe, err)
	case err != nil && !isMissingObject(err):
		return events.Retryable(fmt.Errorf("fetch %s from %s: %w", sha, safe, err), RetryAfter)
	}
	return events.Permanent(fmt.Errorf("commit %s not found in %s", sha, safe))
}

// isMissingObject reports whether a fetch by id failed because the remote
// does not have (or will not serve) the object, rather than for a transport
// reason.
func isMissingObject(err error) bool {
	var ge *gitError
	if !errors.As(err, &ge) {
		return false
	}
	for _, s := range []string{"not our ref", "couldn't find remote ref", "no such remote ref",
		"unadvertised object", "not a valid object", "remote error: upload-pack"} {
		if strings.Contains(strings.ToLower(ge.stderr), s) {
			return true
		}
	}
	return false
}

// hasCommit reports whether the commit sha is in gitDir, asking git only
// until it was found once.
func (m *Mirror) hasCommit(ctx context.Context, gitDir, sha string) bool {
	if m.commits.has(gitDir, sha) {
		return true
	}
	if m.command(ctx, gitDir, "cat-file", "-e", sha+"^{commit}").Run() != nil {
		return false
	}
	m.commits.add(gitDir, sha)
	return true
}

// initMirror creates the bare repository gitDir unless it exists. It is built
// aside and renamed into place, so no process ever sees half a mirror.
func (m *Mirror) initMirror(ctx context.Context, gitDir string) error {
	if _, err := os.Stat(filepath.Join(gitDir, "HEAD")); err == nil {
		return nil
	}
	tmp, err := os.MkdirTemp(m.dir, ".init-*")
	if err != nil {
		return fmt.Errorf("create mirror: %w", err)
	}
	defer os.RemoveAll(tmp)
	if _, err := m.run(ctx, tmp, "", "-c", "init.defaultBranch=main", "init", "--quiet", "--bare", tmp); err != nil {
		return fmt.Errorf("create mirror: %w", err)
	}
	// Never lose a fetched commit: a deploy may need it after a force-push.
	// A fetch does not collect garbage; maintain does, pruning nothing.
	if _, err := m.run(ctx, tmp, "", "config", "gc.auto", "0"); err != nil {
		return fmt.Errorf("configure mirror: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "info", "attributes"), []byte(attributes), 0o644); err != nil {
		return fmt.Errorf("configure mirror: %w", err)
	}
	if err := os.Rename(tmp, gitDir); err != nil && !isExist(gitDir) {
		return fmt.Errorf("create mirror: %w", err)
	}
	return nil
}

// isExist reports whether a mirror exists at gitDir.
func isExist(gitDir string) bool {
	_, err := os.Stat(filepath.Join(gitDir, "HEAD"))
	return err == nil
}

// checkRepo validates what a caller asks for before git sees it.
func checkRepo(repo events.Repo, sha string) error {
	switch {
	case repo.FullName == "":
		return errors.New("repository has no name")
	case repo.CloneURL == "":
		return fmt.Errorf("repository %s has no clone URL", repo.FullName)
	case strings.HasPrefix(repo.CloneURL, "-"):
		return fmt.Errorf("repository %s has an invalid clone URL", repo.FullName)
	}
	return checkSHA(sha)
}

// checkSHA accepts exactly 40 lower-case hex digits.
func checkSHA(sha string) error {
	if len(sha) != 40 || strings.Trim(sha, "0123456789abcdef") != "" {
		return fmt.Errorf("invalid commit id %q: want 40 lower-case hex digits", sha)
	}
	return nil
}
