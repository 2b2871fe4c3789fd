package gitclone

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/release"
)

var (
	_ release.Source = (*Clone)(nil)
	_ release.Log    = (*Clone)(nil)
)

// ErrBranchExists is returned by CommitFile for a branch that exists.
var ErrBranchExists = errors.New("branch exists")

// Clone is a git working repository on this machine.
type Clone struct {
	dir string
}

// Open returns the clone whose working tree (or any directory inside it)
// is dir.
func Open(ctx context.Context, dir string) (*Clone, error) {
	c := &Clone{dir: dir}
	top, err := c.git(ctx, nil, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("open clone %s: %w", dir, err)
	}
	c.dir = strings.TrimSpace(top)
	return c, nil
}

// Dir is the top of the working tree.
func (c *Clone) Dir() string { return c.dir }

// Resolve returns the full id of the commit rev names (a sha prefix, a
// branch, a tag).
func (c *Clone) Resolve(ctx context.Context, rev string) (string, error) {
	if strings.HasPrefix(rev, "-") {
		return "", fmt.Errorf("resolve %q: not a revision", rev)
	}
	out, err := c.git(ctx, nil, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("resolve %q: no such commit", rev)
	}
	return strings.TrimSpace(out), nil
}

// ReadFile implements release.Source for this clone; repo is ignored.
func (c *Clone) ReadFile(ctx context.Context, _ events.Repo, sha, path string) ([]byte, error) {
	if !fs.ValidPath(path) || strings.HasPrefix(sha, "-") {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fs.ErrInvalid}
	}
	if _, err := c.git(ctx, nil, "cat-file", "-e", sha+":"+path); err != nil {
		return nil, &fs.PathError{Op: "read", Path: path + "@" + sha, Err: fs.ErrNotExist}
	}
	out, err := c.git(ctx, nil, "cat-file", "blob", sha+":"+path)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", path, sha, err)
	}
	return []byte(out), nil
}

// Log implements release.Log for this clone.
func (c *Clone) Log(ctx context.Context, _ events.Repo, from, to string, limit int) ([]events.Commit, int, error) {
	rng := []string{to}
	if from != "" {
		rng = append(rng, "^"+from)
	}
	out, err := c.git(ctx, nil, append([]string{"rev-list", "--count"}, rng...)...)
	if err != nil {
		return nil, 0, events.Permanent(fmt.Errorf("count commits %s: %w", strings.Join(rng, " "), err))
	}
	n, _ := strconv.Atoi(strings.TrimSpace(out))
	if n == 0 || limit <= 0 {
		return nil, n, nil
	}
	out, err = c.git(ctx, nil, append([]string{"log", "--no-color", "-n", strconv.Itoa(limit), "--format=%H%x00%an%x00%s"}, append(rng, "--")...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("log: %w", err)
	}
	var commits []events.Commit
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if f := strings.SplitN(line, "\x00", 3); len(f) == 3 {
			commits = append(commits, events.Commit{ID: f[0], Author: f[1], Message: f[2]})
		}
	}
	return commits, n, nil
}

// CommitFile creates branch from base with one commit that sets path to
// content, and returns the commit. The working tree, the index and HEAD are
// left as they are. An existing branch is ErrBranchExists.
func (c *Clone) CommitFile(ctx context.Context, branch, base, path string, content []byte, message string) (string, error) {
	if strings.HasPrefix(branch, "-") || !fs.ValidPath(path) {
		return "", fmt.Errorf("commit %s on %s: invalid name", path, branch)
	}
	if _, err := c.git(ctx, nil, "check-ref-format", "--branch", branch); err != nil {
		return "", fmt.Errorf("branch %q: %w", branch, err)
	}
	if _, err := c.git(ctx, nil, "rev-parse", "--verify", "--quiet", "refs/heads/"+branch); err == nil {
		return "", fmt.Errorf("branch %s: %w", branch, ErrBranchExists)
	}
	parent, err := c.Resolve(ctx, base)
	if err != nil {
		return "", err
	}
	blob, err := c.git(ctx, content, "hash-object", "-w", "--stdin")
	if err != nil {
		return "", err
	}
	tree, err := c.treeWith(ctx, parent, path, strings.TrimSpace(blob))
	if err != nil {
		return "", err
	}
	commit, err := c.gitEnv(ctx, c.identity(ctx), []byte(message), "commit-tree", tree, "-p", parent)
	if err != nil {
		return "", err
	}
	commit = strings.TrimSpace(commit)
	if _, err := c.git(ctx, nil, "update-ref", "refs/heads/"+branch, commit, ""); err != nil {
		return "", err
	}
	return commit, nil
}

// treeWith writes the tree of parent with path set to blob, through a
// temporary index.
func (c *Clone) treeWith(ctx context.Context, parent, path, blob string) (string, error) {
	idx, err := os.CreateTemp("", "slipway-index-*")
	if err != nil {
		return "", err
	}
	idx.Close()
	os.Remove(idx.Name()) // git wants to create it
	defer os.Remove(idx.Name())
	env := []string{"GIT_INDEX_FILE=" + idx.Name()}
	if _, err := c.gitEnv(ctx, env, nil, "read-tree", parent); err != nil {
		return "", err
	}
	if _, err := c.gitEnv(ctx, env, nil, "update-index", "--add", "--cacheinfo", "100644,"+blob+","+filepath.ToSlash(path)); err != nil {
		return "", err
	}
	tree, err := c.gitEnv(ctx, env, nil, "write-tree")
	return strings.TrimSpace(tree), err
}

// Push pushes branch to remote (a remote name or URL), creating it there;
// an existing remote branch is not overwritten.
func (c *Clone) Push(ctx context.Context, remote, branch string) error {
	if strings.HasPrefix(remote, "-") || strings.HasPrefix(branch, "-") {
		return fmt.Errorf("push %s to %s: invalid name", branch, remote)
	}
	_, err := c.git(ctx, nil, "push", "--quiet", remote, "refs/heads/"+branch+":refs/heads/"+branch)
	return err
}

// DefaultBranch returns the branch remote's HEAD names, or, without one,
// "main" when it exists locally, else the current branch.
func (c *Clone) DefaultBranch(ctx context.Context, remote string) string {
	if remote != "" {
		if out, err := c.git(ctx, nil, "symbolic-ref", "--quiet", "--short", "refs/remotes/"+remote+"/HEAD"); err == nil {
			return strings.TrimPrefix(strings.TrimSpace(out), remote+"/")
		}
	}
	if _, err := c.git(ctx, nil, "rev-parse", "--verify", "--quiet", "refs/heads/main"); err == nil {
		return "main"
	}
	out, _ := c.git(ctx, nil, "symbolic-ref", "--quiet", "--short", "HEAD")
	return strings.TrimSpace(out)
}

// identity is the author of the commits CommitFile makes when git has none
// configured: Slipway itself.
func (c *Clone) identity(ctx context.Context) []string {
	if _, err := c.git(ctx, nil, "config", "user.email"); err == nil {
		return nil
	}
	return []string{"GIT_AUTHOR_NAME=Slipway", "GIT_AUTHOR_EMAIL=slipway@localhost",
		"GIT_COMMITTER_NAME=Slipway", "GIT_COMMITTER_EMAIL=slipway@localhost"}
}

func (c *Clone) git(ctx context.Context, stdin []byte, args ...string) (string, error) {
	return c.gitEnv(ctx, nil, stdin, args...)
}

func (c *Clone) gitEnv(ctx context.Context, env []string, stdin []byte, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", c.dir}, args...)...)
	cmd.Env = append(append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C"), env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return "", fmt.Errorf("git %s: %w", args[0], err)
		}
		return "", fmt.Errorf("git %s: %s", args[0], msg)
	}
	return stdout.String(), nil
}
