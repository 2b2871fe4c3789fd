package preview_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/preview"
	"github.com/slipway-dev/slipway/workflows/release"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

// countedFiles is workflowstest.Files counting the reads of each file at
// each commit.
type countedFiles struct {
	workflowstest.Files
	mu    sync.Mutex
	reads map[string]int
}

func (c *countedFiles) ReadFile(ctx context.Context, repo events.Repo, sha, path string) ([]byte, error) {
	c.mu.Lock()
	c.reads[path+"@"+sha]++
	c.mu.Unlock()
	return c.Files.ReadFile(ctx, repo, sha, path)
}

// TestSlipwayYAMLReadOncePerCommit plans one commit three ways with one
// build.Planner, as `slipway up` does: pushed to the default branch (the
// builder), pushed to a branch an environment follows (release) and the
// head of a pull request (preview). Each path requests the commit's builds
// on its branch, and slipway.yaml is read from the source once.
func TestSlipwayYAMLReadOncePerCommit(t *testing.T) {
	ctx := context.Background()
	src := &countedFiles{Files: workflowstest.Files{h1: {"slipway.yaml": yml + "  qa: {branch: develop}\n"}}, reads: map[string]int{}}
	pub := &workflowstest.Recorder{}
	planner := &build.Planner{Source: src, Publisher: pub}
	claims := workflowstest.Results{}
	builder := &build.Handler{Config: build.Config{Registry: "localhost:5000", ClaimTTL: time.Minute}, Publisher: pub, Planner: planner}
	rel := &release.Handler{Config: release.Config{StagingEnv: "staging"}, Source: src, Planner: planner, Claims: claims, Publisher: pub}
	prev := &preview.Handler{Planner: planner, Deploys: rel, Publisher: pub,
		Store: &store{m: map[string]preview.Preview{}}, Target: &target{running: map[string]bool{}}, Envs: envRecords{}}

	push := func(branch string) *events.PushReceived {
		return &events.PushReceived{Repo: repo, Ref: "refs/heads/" + branch, Branch: branch, After: h1}
	}
	if err := builder.HandlePush(ctx, push("main")); err != nil {
		t.Fatalf("default branch: %v", err)
	}
	if err := rel.HandlePush(ctx, push("develop")); err != nil {
		t.Fatalf("followed branch: %v", err)
	}
	if err := prev.HandlePullRequest(ctx, pr(events.PROpened, 9, h1)); err != nil {
		t.Fatalf("pull request head: %v", err)
	}

	var got []string
	for _, r := range workflowstest.Of[*events.BuildRequested](pub) {
		got = append(got, r.Branch+"/"+r.Service.Name)
	}
	if want := "[main/web develop/web feature/web]"; fmt.Sprint(got) != want {
		t.Errorf("build requests %v, want %s", got, want)
	}
	if n := src.reads["slipway.yaml@"+h1]; n != 1 {
		t.Errorf("slipway.yaml of %s read %d times, want once", h1[:7], n)
	}
}
