package gitmirror_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/gitmirror"
	"github.com/slipway-dev/slipway/gitmirror/gittest"
)

func TestCheckout(t *testing.T) {
	repo := gittest.MustRepo(t)
	repo.WriteFile("services/web/Dockerfile", "FROM scratch\n")
	repo.WriteFile("services/web/run.sh", "#!/bin/sh\n")
	repo.WriteFile("version.txt", "$Format:%H$\n")
	repo.WriteFile("ignored.txt", "kept\n")
	repo.WriteFile(".gitattributes", "version.txt export-subst\nignored.txt export-ignore\n")
	repo.Symlink("services/web/Dockerfile", "Dockerfile")
	if err := os.Chmod(filepath.Join(repo.Dir(), "services/web/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	sha := repo.Commit("one")
	commitTime := commitTime(t, repo, sha)

	dir, release, err := mustMirror(t).Checkout(context.Background(), repo.Events("acme/shop"), sha)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path    string
		content string
		mode    os.FileMode
	}{
		{"services/web/Dockerfile", "FROM scratch\n", 0o644},
		{"services/web/run.sh", "#!/bin/sh\n", 0o755},
		{"version.txt", "$Format:%H$\n", 0o644},
		{"ignored.txt", "kept\n", 0o644},
	}
	for _, tt := range tests {
		name := filepath.Join(dir, tt.path)
		got, err := os.ReadFile(name)
		if err != nil || string(got) != tt.content {
			t.Errorf("%s = %q, %v; want %q", tt.path, got, err, tt.content)
			continue
		}
		fi, _ := os.Stat(name)
		if fi.Mode().Perm()&0o111 != tt.mode&0o111 {
			t.Errorf("%s mode = %v, want %v", tt.path, fi.Mode().Perm(), tt.mode)
		}
		if !fi.ModTime().Equal(commitTime) {
			t.Errorf("%s mtime = %v, want the commit time %v", tt.path, fi.ModTime(), commitTime)
		}
	}
	if target, err := os.Readlink(filepath.Join(dir, "Dockerfile")); err != nil || target != "services/web/Dockerfile" {
		t.Errorf("symlink = %q, %v; want services/web/Dockerfile", target, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "services")); err != nil || !fi.ModTime().Equal(commitTime) {
		t.Errorf("directory mtime = %v, %v; want %v", fi.ModTime(), err, commitTime)
	}
	release()
	release()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("checkout still there after release: %v", err)
	}
}

func TestCheckoutUnknownCommit(t *testing.T) {
	repo := gittest.MustRepo(t)
	repo.WriteFile("a", "a")
	repo.Commit("a")
	_, release, err := mustMirror(t).Checkout(context.Background(), repo.Events("acme/shop"), "0123456789012345678901234567890123456789")
	if !events.IsPermanent(err) || release != nil {
		t.Errorf("Checkout() error = %v, want permanent and no release", err)
	}
}

// TestConcurrentCheckouts runs several builders on one fresh Mirror: the
// first fetches race, then every checkout must hold its own commit's tree.
func TestConcurrentCheckouts(t *testing.T) {
	const commits, builders = 4, 12
	repos := []*gittest.Repo{gittest.MustRepo(t), gittest.MustRepo(t)}
	shas := make([][]string, len(repos))
	for r, repo := range repos {
		for i := range commits {
			repo.WriteFile("n.txt", strconv.Itoa(i))
			shas[r] = append(shas[r], repo.Commit(fmt.Sprint(i)))
		}
	}
	m := mustMirror(t)
	var wg sync.WaitGroup
	for b := range builders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, i := b%len(repos), b%commits
			src := repos[r].Events(fmt.Sprintf("acme/repo-%d", r))
			dir, release, err := m.Checkout(context.Background(), src, shas[r][i])
			if err != nil {
				t.Errorf("builder %d: %v", b, err)
				return
			}
			defer release()
			if got, err := os.ReadFile(filepath.Join(dir, "n.txt")); err != nil || string(got) != strconv.Itoa(i) {
				t.Errorf("builder %d: n.txt = %q, %v; want %d", b, got, err, i)
			}
		}()
	}
	wg.Wait()
}

func commitTime(tb testing.TB, repo *gittest.Repo, sha string) time.Time {
	tb.Helper()
	sec, err := strconv.ParseInt(repo.Git("show", "-s", "--format=%ct", sha), 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return time.Unix(sec, 0)
}

// TestFetchKeepsPacks checks that fetches land as whole packs, never as loose
// objects written one by one (git's default for small fetches): a checkout
// that finds a commit without waiting for the fetch in progress must find
// its tree too.
func TestFetchKeepsPacks(t *testing.T) {
	repo := gittest.MustRepo(t)
	dir := t.TempDir()
	m, err := gitmirror.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the first fetch creates the mirror, the second adds to it
		repo.WriteFile("n.txt", strconv.Itoa(i))
		sha := repo.Commit(fmt.Sprint(i))
		_, release, err := m.Checkout(context.Background(), repo.Events("acme/packs"), sha)
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	loose, _ := filepath.Glob(filepath.Join(dir, "*.git", "objects", "[0-9a-f][0-9a-f]", "*"))
	packs, _ := filepath.Glob(filepath.Join(dir, "*.git", "objects", "pack", "*.pack"))
	if len(loose) != 0 || len(packs) == 0 {
		t.Errorf("mirror holds %d loose objects and %d packs, want 0 and some: %v", len(loose), len(packs), loose)
	}
}

// TestCheckoutPaths: a checkout of some paths writes each with what is
// under it and the directories and links on the way to it, and nothing else.
func TestCheckoutPaths(t *testing.T) {
	repo := gittest.MustRepo(t)
	for _, p := range []string{"services/web/Dockerfile", "services/web/src/index.txt", "services/web.Dockerfile.dockerignore",
		"services/api/Dockerfile", "docker/web.Dockerfile", "docs/README.md", "slipway.yaml"} {
		repo.WriteFile(p, p+"\n")
	}
	repo.Symlink("services", "lnk") // a link on the way to a wanted path is kept
	sha := repo.Commit("one")
	tests := []struct {
		name  string
		paths []string
		want  []string
	}{
		{"context and a Dockerfile outside it", []string{"services/web", "docker/web.Dockerfile", "docker/web.Dockerfile.dockerignore"},
			[]string{"docker/web.Dockerfile", "services/web/Dockerfile", "services/web/src/index.txt"}},
		{"a prefix of a name is not its directory", []string{"services/web"},
			[]string{"services/web/Dockerfile", "services/web/src/index.txt"}},
		{"through a link", []string{"lnk/web"}, []string{"lnk"}},
		{"the root", []string{"."}, []string{"docker/web.Dockerfile", "docs/README.md", "lnk", "services/api/Dockerfile",
			"services/web/Dockerfile", "services/web/src/index.txt", "services/web.Dockerfile.dockerignore", "slipway.yaml"}},
	}
	m := mustMirror(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, release, err := m.CheckoutPaths(context.Background(), repo.Events("acme/shop"), sha, tt.paths)
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			var got []string
			err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				got = append(got, filepath.ToSlash(rel))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("CheckoutPaths(%q) wrote %q, want %q", tt.paths, got, tt.want)
			}
		})
	}
}
