package gitclone_test

import (
	"context"
	"errors"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/gitclone"
	"github.com/slipway-dev/slipway/gitmirror/gittest"
)

func TestCommitFileAndPush(t *testing.T) {
	repo := gittest.MustRepo(t)
	repo.WriteFile("slipway.yaml", "version: 1\n")
	first := repo.Commit("first")
	repo.WriteFile("README", "work in progress\n") // uncommitted: must stay so
	remote := filepath.Join(t.TempDir(), "remote.git")
	if out, err := exec.Command("git", "init", "--quiet", "--bare", remote).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	ctx := context.Background()
	c, err := gitclone.Open(ctx, filepath.Join(repo.Dir(), "."))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Resolve(ctx, first[:8]); err != nil || got != first {
		t.Fatalf("Resolve(prefix) = %q, %v", got, err)
	}
	if _, err := c.Resolve(ctx, "nope"); err == nil {
		t.Error("Resolve(nope) succeeded")
	}
	if c.DefaultBranch(ctx, "") != "main" {
		t.Errorf("DefaultBranch() = %q", c.DefaultBranch(ctx, ""))
	}

	commit, err := c.CommitFile(ctx, "release/prod-1", "main", "deploy/prod.yaml", []byte("commit: x\n"), "Release x")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.ReadFile(ctx, events.Repo{}, commit, "deploy/prod.yaml"); err != nil || string(got) != "commit: x\n" {
		t.Fatalf("pin at the release commit = %q, %v", got, err)
	}
	if got, err := c.ReadFile(ctx, events.Repo{}, commit, "slipway.yaml"); err != nil || string(got) != "version: 1\n" {
		t.Errorf("the release commit lost slipway.yaml: %q, %v", got, err)
	}
	if _, err := c.ReadFile(ctx, events.Repo{}, first, "deploy/prod.yaml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("pin at the base: %v, want ErrNotExist", err)
	}
	if parent := repo.Git("rev-parse", commit+"^"); parent != first {
		t.Errorf("parent %s, want %s", parent, first)
	}
	if head := repo.Git("rev-parse", "HEAD"); head != first || !strings.Contains(repo.Git("status", "--porcelain"), "README") ||
		repo.Git("symbolic-ref", "--short", "HEAD") != "main" {
		t.Errorf("the working tree moved: HEAD %s, status %q", head, repo.Git("status", "--porcelain"))
	}
	if _, err := c.CommitFile(ctx, "release/prod-1", "main", "x", nil, "again"); !errors.Is(err, gitclone.ErrBranchExists) {
		t.Errorf("second CommitFile: %v, want ErrBranchExists", err)
	}
	if err := c.Push(ctx, remote, "release/prod-1"); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "--git-dir", remote, "rev-parse", "refs/heads/release/prod-1").Output()
	if err != nil || strings.TrimSpace(string(out)) != commit {
		t.Errorf("remote branch = %q, %v; want %s", out, err, commit)
	}

	commits, n, err := c.Log(ctx, events.Repo{}, first, commit, 10)
	if err != nil || n != 1 || commits[0].ID != commit || commits[0].Message != "Release x" {
		t.Errorf("Log() = %+v, %d, %v", commits, n, err)
	}
}
