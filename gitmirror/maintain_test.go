package gitmirror_test

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/gitmirror"
	"github.com/slipway-dev/slipway/gitmirror/gittest"
)

// TestMirrorPacksStayBounded fetches one commit at a time, each fetch
// landing as a pack of its own: the packs are collected once there are
// more than AutoPackLimit, and a commit a force-push left behind is still
// there after the collection.
func TestMirrorPacksStayBounded(t *testing.T) {
	repo := gittest.MustRepo(t)
	dir := t.TempDir()
	m, err := gitmirror.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	src := repo.Events("acme/shop")
	repo.WriteFile("v", "base")
	base := repo.Commit("base")
	mustRead(t, m, src, base, "v", "base")
	repo.WriteFile("v", "abandoned")
	abandoned := repo.Commit("abandoned")
	mustRead(t, m, src, abandoned, "v", "abandoned")
	repo.Git("reset", "--quiet", "--hard", base) // force-push back

	packs := filepath.Join(dir, events.KeyPart("acme/shop")+".git", "objects", "pack", "*.pack")
	most := 0
	for i := range 2 * gitmirror.AutoPackLimit {
		repo.WriteFile("v", strconv.Itoa(i))
		mustRead(t, m, src, repo.Commit("commit "+strconv.Itoa(i)), "v", strconv.Itoa(i))
		found, _ := filepath.Glob(packs)
		most = max(most, len(found))
	}
	if most > gitmirror.AutoPackLimit+2 {
		t.Errorf("the mirror held up to %d packs over %d fetches, want at most %d", most, 2*gitmirror.AutoPackLimit, gitmirror.AutoPackLimit+2)
	}
	if found, _ := filepath.Glob(packs); len(found) >= most && most > 2 {
		t.Errorf("%d packs now, at most %d before: never collected", len(found), most)
	}
	mustRead(t, m, src, abandoned, "v", "abandoned")
}

// TestObjectIDs: a directory's id changes exactly when something under it
// does; a missing path has the id "".
func TestObjectIDs(t *testing.T) {
	repo := gittest.MustRepo(t)
	m := mustMirror(t)
	src := repo.Events("acme/shop")
	ctx := context.Background()
	repo.WriteFile("a/x", "1")
	repo.WriteFile("b/x", "1")
	one := repo.Commit("one")
	repo.WriteFile("b/x", "2")
	two := repo.Commit("two")
	paths := []string{"a", "b", ".", "a/x"}
	ids1, err := m.ObjectIDs(ctx, src, one, paths)
	if err != nil {
		t.Fatal(err)
	}
	ids2, err := m.ObjectIDs(ctx, src, two, paths)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		if changed := ids1[i] != ids2[i]; changed != (p == "b" || p == ".") {
			t.Errorf("%s: %s then %s, changed %v", p, ids1[i], ids2[i], changed)
		}
	}
	if ids, err := m.ObjectIDs(ctx, src, two, []string{"a", "missing/dir"}); err != nil || ids[0] != ids2[0] || ids[1] != "" {
		t.Errorf("missing path: %q, %v; want a's id and \"\"", ids, err)
	}
	if _, err := m.ObjectIDs(ctx, src, two, []string{"../etc"}); err == nil {
		t.Error("path leaving the tree: no error")
	}
}

// TestChangedPaths: what a commit changes against its parent.
func TestChangedPaths(t *testing.T) {
	repo := gittest.MustRepo(t)
	m := mustMirror(t)
	src := repo.Events("acme/shop")
	ctx := context.Background()
	repo.WriteFile("services/web/index.txt", "1")
	repo.WriteFile("deploy/production.yaml", "commit: a\n")
	root := repo.Commit("root")
	repo.WriteFile("deploy/production.yaml", "commit: b\n")
	pin := repo.Commit("release")
	for sha, want := range map[string][]string{
		root: {"deploy/production.yaml", "services/web/index.txt"},
		pin:  {"deploy/production.yaml"},
	} {
		got, err := m.ChangedPaths(ctx, src, sha)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ChangedPaths(%s) = %v, %v; want %v", sha[:8], got, err, want)
		}
	}
}
