package build_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

// counted is a Source counting the reads of each commit; while fail is set
// every read fails.
type counted struct {
	tree
	mu    sync.Mutex
	reads map[string]int
	fail  atomic.Bool
}

func (c *counted) ReadFile(ctx context.Context, repo events.Repo, sha, path string) ([]byte, error) {
	c.mu.Lock()
	if c.reads == nil {
		c.reads = map[string]int{}
	}
	c.reads[sha]++
	c.mu.Unlock()
	if c.fail.Load() {
		return nil, errors.New("git host unreachable")
	}
	return c.tree.ReadFile(ctx, repo, sha, path)
}

func (c *counted) readsOf(sha string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads[sha]
}

func commit(i int) string { return fmt.Sprintf("%040x", i+1) }

// TestPlannerReadsManifestOncePerCommit: planning a commit many times, some
// at once, reads its slipway.yaml once and requests its builds each time; a
// failed read is not remembered; past ManifestCache commits the oldest is
// read again.
func TestPlannerReadsManifestOncePerCommit(t *testing.T) {
	ctx := context.Background()
	src := &counted{tree: tree{"slipway.yaml": twoServices}}
	pub := &workflowstest.Recorder{}
	p := &build.Planner{Source: src, Publisher: pub}

	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Plan(ctx, repo, sha, "main"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, err := p.Manifest(ctx, repo, sha); err != nil {
		t.Fatal(err)
	}
	if n := src.readsOf(sha); n != 1 {
		t.Errorf("slipway.yaml of one commit read %d times, want 1", n)
	}
	if n := len(pub.OfType(events.TypeBuildRequested)); n != 16 {
		t.Errorf("%d build requests, want 2 per plan", n)
	}

	other := commit(1000)
	src.fail.Store(true)
	if err := p.Plan(ctx, repo, other, "main"); err == nil || events.IsPermanent(err) {
		t.Fatalf("Plan() with the host down = %v, want a retryable error", err)
	}
	src.fail.Store(false)
	if err := p.Plan(ctx, repo, other, "main"); err != nil {
		t.Fatalf("Plan() after the host is back = %v", err)
	}
	if n := src.readsOf(other); n != 2 {
		t.Errorf("a commit whose first read failed was read %d times, want 2", n)
	}

	for i := range build.ManifestCache {
		if _, err := p.Manifest(ctx, repo, commit(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Manifest(ctx, repo, sha); err != nil {
		t.Fatal(err)
	}
	if n := src.readsOf(sha); n != 2 {
		t.Errorf("after %d other commits the first was read %d times in all, want 2 (forgotten once)", build.ManifestCache, n)
	}
}

// TestPlannerRefuses: a commit the event names badly, or of a repository
// not configured, is refused permanently before slipway.yaml is read.
func TestPlannerRefuses(t *testing.T) {
	tests := []struct {
		name  string
		repo  events.Repo
		sha   string
		repos []string
	}{
		{"bad commit id", repo, "HEAD", nil},
		{"clone url not a url", events.Repo{FullName: repo.FullName, CloneURL: "-uexec"}, sha, nil},
		{"repository not configured", repo, sha, []string{"acme/other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &counted{tree: tree{"slipway.yaml": twoServices}}
			pub := &workflowstest.Recorder{}
			p := &build.Planner{Source: src, Publisher: pub, Repos: tt.repos}
			if err := p.Plan(context.Background(), tt.repo, tt.sha, "main"); !events.IsPermanent(err) {
				t.Fatalf("Plan() = %v, want permanent", err)
			}
			if n := src.readsOf(tt.sha); n != 0 || len(pub.Events()) != 0 {
				t.Errorf("%d reads, events %v: want none", n, pub.Events())
			}
		})
	}
}
