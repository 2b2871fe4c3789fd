package gitmirror

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/preview"
	"github.com/slipway-dev/slipway/workflows/release"
)

var (
	_ release.Log      = (*Mirror)(nil)
	_ preview.Branches = (*Mirror)(nil)
)

// Log implements release.Log: the commits reachable from to and not from
// from, newest first, at most limit, and how many there are; with from empty,
// to's history. Both commits are fetched when missing.
func (m *Mirror) Log(ctx context.Context, repo events.Repo, from, to string, limit int) ([]events.Commit, int, error) {
	gitDir, err := m.ensure(ctx, repo, to)
	if err != nil {
		return nil, 0, err
	}
	rng := []string{to}
	if from != "" {
		if _, err := m.ensure(ctx, repo, from); err != nil {
			return nil, 0, err
		}
		rng = append(rng, "^"+from)
	}
	out, err := m.run(ctx, gitDir, "", append([]string{"rev-list", "--count"}, rng...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("count commits %s: %w", strings.Join(rng, " "), err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return nil, 0, fmt.Errorf("count commits: %q: %w", out, err)
	}
	if n == 0 || limit <= 0 {
		return nil, n, nil
	}
	args := append([]string{"log", "--no-color", "-n", strconv.Itoa(limit), "--format=%H%x00%an%x00%s"}, rng...)
	out, err = m.run(ctx, gitDir, "", append(args, "--")...)
	if err != nil {
		return nil, 0, fmt.Errorf("log %s: %w", strings.Join(rng, " "), err)
	}
	var commits []events.Commit
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.SplitN(line, "\x00", 3)
		if len(f) == 3 {
			commits = append(commits, events.Commit{ID: f[0], Author: f[1], Message: f[2]})
		}
	}
	return commits, n, nil
}

// branchTimeout bounds the question to the remote whether a branch exists.
const branchTimeout = 30 * time.Second

// BranchExists implements preview.Branches with git ls-remote against the
// repository's clone URL. An unreachable remote is an error, never "gone".
func (m *Mirror) BranchExists(ctx context.Context, repo events.Repo, branch string) (bool, error) {
	if repo.CloneURL == "" || strings.HasPrefix(repo.CloneURL, "-") || branch == "" || strings.HasPrefix(branch, "-") {
		return false, fmt.Errorf("branch %q of %q: invalid", branch, repo.FullName)
	}
	ctx, cancel := context.WithTimeout(ctx, branchTimeout)
	defer cancel()
	a, err := m.access(repo)
	if err != nil {
		return false, err
	}
	out, err := m.remote(ctx, m.dir, a, "ls-remote", "--heads", a.url, "refs/heads/"+branch)
	if err != nil {
		return false, fmt.Errorf("ls-remote %s: %w", redactURL(a.url), err)
	}
	return strings.Contains(string(out), "\trefs/heads/"+branch+"\n"), nil
}
