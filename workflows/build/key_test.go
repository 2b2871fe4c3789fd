package build_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/gitmirror"
	"github.com/slipway-dev/slipway/gitmirror/gittest"
	"github.com/slipway-dev/slipway/workflows/build"
)

// TestBuildKey computes build keys from a real git repository: a key
// changes exactly when something the build can see changes (its context or
// declared inputs, its Dockerfile even outside the context, a
// .dockerignore, its network mode), and a Dockerfile naming SLIPWAY_COMMIT
// has a key per commit.
func TestBuildKey(t *testing.T) {
	repo := gittest.MustRepo(t)
	m, err := gitmirror.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := &build.Handler{Config: build.Config{Registry: "localhost:5000"}, Source: m, Objects: m}
	src := repo.Events("acme/shop")
	web := events.ServiceSpec{Name: "web", Context: "services/web", Dockerfile: "Dockerfile"}
	outside := events.ServiceSpec{Name: "web", Context: "services/web", Dockerfile: "../../docker/web.Dockerfile"}
	narrowed := events.ServiceSpec{Name: "web", Context: ".", Dockerfile: "services/web/Dockerfile", Inputs: []string{"services/web", "libs/common"}}
	networked := web
	networked.Network = true

	repo.WriteFile("services/web/Dockerfile", "FROM busybox\nCOPY . /app\n")
	repo.WriteFile("services/web/index.txt", "1")
	repo.WriteFile("docker/web.Dockerfile", "FROM busybox\n")
	repo.WriteFile("libs/common/x", "1")
	repo.WriteFile("docs/README.md", "1")
	base := repo.Commit("base")
	key := func(sha string, s events.ServiceSpec) string {
		t.Helper()
		k, err := h.BuildKey(context.Background(), &events.BuildRequested{Repo: src, Commit: sha, Branch: "main", Service: s})
		if err != nil {
			t.Fatalf("BuildKey(%s, %s): %v", sha[:8], s.Dockerfile, err)
		}
		return k
	}
	commit := func(path, content string) string {
		repo.WriteFile(path, content)
		return repo.Commit("change " + path)
	}
	docs := commit("docs/README.md", "2")
	lib := commit("libs/common/x", "2")
	ignore := commit("services/web/.dockerignore", "*.md\n")
	index := commit("services/web/index.txt", "2")
	outsideDockerfile := commit("docker/web.Dockerfile", "FROM busybox\nRUN true\n")

	tests := []struct {
		name    string
		a, b    string
		s       events.ServiceSpec
		changed bool
	}{
		{"docs only", base, docs, web, false},
		{"library outside the context", docs, lib, web, false},
		{".dockerignore in the context", lib, ignore, web, true},
		{"file in the context", ignore, index, web, true},
		{"Dockerfile outside the context", index, outsideDockerfile, outside, true},
		{"Dockerfile outside the context, context unchanged", base, docs, outside, false},
		{"declared input", docs, lib, narrowed, true},
		{"outside the declared inputs of a root context", base, docs, narrowed, false},
	}
	for _, tt := range tests {
		if changed := key(tt.a, tt.s) != key(tt.b, tt.s); changed != tt.changed {
			t.Errorf("%s: key changed %v, want %v", tt.name, changed, tt.changed)
		}
	}
	if key(base, web) == key(base, networked) {
		t.Error("network: true has the key of network: false")
	}
	stamped := commit("services/web/Dockerfile", "FROM busybox\nARG SLIPWAY_COMMIT\nLABEL c=$SLIPWAY_COMMIT\n")
	again := repo.Commit("empty")
	if key(stamped, web) == key(again, web) {
		t.Error("a Dockerfile naming SLIPWAY_COMMIT has one key for two commits")
	}
	missing := events.ServiceSpec{Name: "web", Context: ".", Dockerfile: "services/web/Dockerfile", Inputs: []string{"libs/gone"}}
	if _, err := h.BuildKey(context.Background(), &events.BuildRequested{Repo: src, Commit: again, Service: missing}); !events.IsPermanent(err) {
		t.Errorf("missing input: %v, want a permanent error", err)
	}
}

// countingSource counts the reads of each path of a Source.
type countingSource struct {
	build.Source
	mu    sync.Mutex
	reads map[string]int
}

func (c *countingSource) ReadFile(ctx context.Context, repo events.Repo, sha, path string) ([]byte, error) {
	c.mu.Lock()
	c.reads[path]++
	c.mu.Unlock()
	return c.Source.ReadFile(ctx, repo, sha, path)
}

// TestBuildKeyReadsADockerfileOnce: the build keys of commits that leave
// a Dockerfile as it was read it once (its stamp is known by its blob id),
// and a changed Dockerfile is read again, its stamp honoured.
func TestBuildKeyReadsADockerfileOnce(t *testing.T) {
	repo := gittest.MustRepo(t)
	m, err := gitmirror.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src := &countingSource{Source: m, reads: map[string]int{}}
	h := &build.Handler{Config: build.Config{Registry: "localhost:5000"}, Source: src, Objects: m}
	web := events.ServiceSpec{Name: "web", Context: "services/web", Dockerfile: "Dockerfile"}
	const dockerfile = "services/web/Dockerfile"
	key := func(sha string) string {
		t.Helper()
		k, err := h.BuildKey(context.Background(), &events.BuildRequested{Repo: repo.Events("acme/shop"), Commit: sha, Branch: "main", Service: web})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	repo.WriteFile(dockerfile, "FROM busybox\n")
	repo.WriteFile("services/web/index.txt", "1")
	var shas []string
	for i := range 3 {
		repo.WriteFile("services/web/index.txt", fmt.Sprint(i))
		shas = append(shas, repo.Commit(fmt.Sprint("change ", i)))
	}
	for _, sha := range shas {
		key(sha)
	}
	if n := src.reads[dockerfile]; n != 1 {
		t.Errorf("3 commits of one Dockerfile: read %d times, want 1", n)
	}
	repo.WriteFile(dockerfile, "FROM busybox\nARG SLIPWAY_COMMIT\n")
	stamped := repo.Commit("stamp")
	again := repo.Commit("empty")
	if key(stamped) == key(again) {
		t.Error("a Dockerfile naming SLIPWAY_COMMIT, read once: one key for two commits")
	}
	if n := src.reads[dockerfile]; n != 2 {
		t.Errorf("after the Dockerfile changed: read %d times in all, want 2", n)
	}
}

// countingObjects counts the lookups of an Objects.
type countingObjects struct {
	build.Objects
	mu    sync.Mutex
	calls int
}

func (c *countingObjects) ObjectIDs(ctx context.Context, repo events.Repo, sha string, paths []string) ([]string, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return c.Objects.ObjectIDs(ctx, repo, sha, paths)
}

// TestBuildKeysOfACommitLookUpOnce: the build keys of every service of a
// commit, asked at once as a builder's handlers do, cost one lookup of git
// objects (one git process), and are the keys computed one service at a
// time without the memo.
func TestBuildKeysOfACommitLookUpOnce(t *testing.T) {
	repo := gittest.MustRepo(t)
	m, err := gitmirror.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	manifest := "version: 1\nservices:\n"
	for i := range 5 {
		name := fmt.Sprintf("svc%d", i)
		manifest += fmt.Sprintf("  - name: %s\n    context: services/%s\n    port: %d\n", name, name, 8080+i)
		repo.WriteFile("services/"+name+"/Dockerfile", "FROM busybox\nCOPY . /app\n")
		repo.WriteFile("services/"+name+"/index.txt", name)
	}
	repo.WriteFile("slipway.yaml", manifest)
	sha := repo.Commit("five services")
	src := repo.Events("acme/shop")
	objs := &countingObjects{Objects: m}
	memo := &build.Handler{Config: build.Config{Registry: "localhost:5000"}, Source: m, Objects: objs, Planner: &build.Planner{Source: m}}
	direct := &build.Handler{Config: build.Config{Registry: "localhost:5000"}, Source: m, Objects: m}
	spec, err := memo.Planner.Manifest(context.Background(), src, sha)
	if err != nil {
		t.Fatal(err)
	}
	services := spec.Services()
	keys := make([]string, len(services))
	errs := make([]error, len(services))
	var wg sync.WaitGroup
	for i, s := range services {
		wg.Go(func() {
			keys[i], errs[i] = memo.BuildKey(context.Background(), &events.BuildRequested{Repo: src, Commit: sha, Branch: "main", Service: s})
		})
	}
	wg.Wait()
	if objs.calls != 1 {
		t.Errorf("keys of %d services: %d lookups of git objects, want 1", len(services), objs.calls)
	}
	seen := map[string]bool{}
	for i, s := range services {
		if errs[i] != nil {
			t.Fatalf("BuildKey(%s): %v", s.Name, errs[i])
		}
		want, err := direct.BuildKey(context.Background(), &events.BuildRequested{Repo: src, Commit: sha, Branch: "main", Service: s})
		if err != nil {
			t.Fatal(err)
		}
		if keys[i] != want {
			t.Errorf("%s: key %s with the memo, %s without", s.Name, keys[i], want)
		}
		if seen[keys[i]] {
			t.Errorf("%s: key %s shared with another service", s.Name, keys[i])
		}
		seen[keys[i]] = true
	}
}
