package gitserver

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Repo is a working repository whose commits are pushed to a bare repository
// under a Server's root, as a developer pushes to their git host.
type Repo struct {
	Name string // "acme/shop"
	Dir  string // the working tree
	bare string
}

// NewRepo creates the bare repository root/<name>.git and a working tree in
// workDir whose origin it is, on branch main.
func NewRepo(ctx context.Context, root, workDir, name string) (*Repo, error) {
	r := &Repo{Name: name, Dir: workDir, bare: filepath.Join(root, name+".git")}
	if err := os.MkdirAll(r.bare, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", r.bare, err)
	}
	steps := [][]string{
		{"-C", r.bare, "init", "--bare", "--initial-branch=main"},
		{"-C", r.bare, "config", "uploadpack.allowReachableSHA1InWant", "true"},
		{"-C", r.bare, "config", "http.receivepack", "true"},
		{"init", "--initial-branch=main", workDir},
		{"-C", workDir, "remote", "add", "origin", r.bare},
	}
	for _, args := range steps {
		if _, err := git(ctx, args...); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// WriteFile writes a file of the working tree, creating its directories.
func (r *Repo) WriteFile(path, content string) error {
	p := filepath.Join(r.Dir, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content), 0o644)
}

// CommitAndPush commits every change with msg, pushes main and returns the
// new commit's SHA.
func (r *Repo) CommitAndPush(ctx context.Context, msg string) (string, error) {
	steps := [][]string{
		{"-C", r.Dir, "add", "-A"},
		{"-C", r.Dir, "-c", "user.name=Slipway Demo", "-c", "user.email=demo@slipway.invalid", "commit", "-q", "--allow-empty", "-m", msg},
		{"-C", r.Dir, "push", "-q", "origin", "main"},
	}
	for _, args := range steps {
		if _, err := git(ctx, args...); err != nil {
			return "", err
		}
	}
	return r.Head(ctx)
}

// Head returns the SHA of the working tree's HEAD.
func (r *Repo) Head(ctx context.Context) (string, error) {
	out, err := git(ctx, "-C", r.Dir, "rev-parse", "HEAD")
	return strings.TrimSpace(out), err
}

func git(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
