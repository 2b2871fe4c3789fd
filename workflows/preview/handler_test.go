package preview_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/preview"
	"github.com/slipway-dev/slipway/workflows/release"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

var repo = events.Repo{Forge: "github", FullName: "acme/shop", CloneURL: "http://git.invalid/acme/shop.git", DefaultBranch: "main"}

const (
	h1 = "1111111111111111111111111111111111111111"
	h2 = "2222222222222222222222222222222222222222"
	h3 = "3333333333333333333333333333333333333333"
	h4 = "4444444444444444444444444444444444444444"
)

const yml = `version: 1
services:
  - {name: web, context: web, port: 8080}
environments:
  staging: {}
  preview:
    previews: true
    ttl: 1h
    services:
      web: {env: {MODE: preview}}
`

// built records the web service of sha as built.
func built(c workflowstest.Results, sha string) {
	c.Built(repo.FullName, sha, events.Image{Service: events.ServiceSpec{Name: "web", Port: 8080}, Ref: "r/web:" + sha, Digest: "sha256:" + sha[:8]})
}

type store struct {
	mu sync.Mutex
	m  map[string]preview.Preview
}

func key(repo string, n int) string { return fmt.Sprintf("%s#%d", repo, n) }

func (s *store) Get(_ context.Context, repo string, n int) (preview.Preview, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.m[key(repo, n)]
	return p, ok, nil
}
func (s *store) Put(_ context.Context, p preview.Preview) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key(p.Repo.FullName, p.Number)] = p
	return nil
}
func (s *store) Delete(_ context.Context, repo string, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key(repo, n))
	return nil
}
func (s *store) List(context.Context) ([]preview.Preview, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []preview.Preview
	for _, p := range s.m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out, nil
}

// target holds the environments that run something.
type target struct {
	running map[string]bool
	removed []string
}

func (t *target) Current(_ context.Context, r, env string) (deploy.Release, error) {
	if r == repo.FullName && t.running[env] {
		return deploy.Release{Env: env, Services: []deploy.ServiceState{{Name: "web", Running: true}}}, nil
	}
	return deploy.Release{Env: env}, nil
}
func (t *target) Remove(_ context.Context, r, env string) error {
	if r != repo.FullName {
		return fmt.Errorf("remove %s of %s: the test runs only %s", env, r, repo.FullName)
	}
	delete(t.running, env)
	t.removed = append(t.removed, env)
	return nil
}

type envRecords map[string]bool

func (e envRecords) Delete(_ context.Context, _, env string) error { delete(e, env); return nil }

// openPRs answers IsOpen from a set of numbers.
type openPRs map[int]bool

func (o openPRs) IsOpen(_ context.Context, p preview.Preview) (bool, error) { return o[p.Number], nil }

type fixture struct {
	h      *preview.Handler
	pub    *workflowstest.Recorder
	target *target
	claims workflowstest.Results
	now    time.Time
	open   openPRs
}

func newFixture() *fixture {
	f := &fixture{pub: &workflowstest.Recorder{}, target: &target{running: map[string]bool{}}, claims: workflowstest.Results{}, open: openPRs{},
		now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	src := workflowstest.Files{h1: {"slipway.yaml": yml}, h2: {"slipway.yaml": yml}, h3: {"slipway.yaml": "version: 1\n"},
		h4: {"slipway.yaml": "version: 1\nservices: [{name: web, context: web, port: 80}]\nenvironments: {staging: {}}\n"}}
	planner := &build.Planner{Source: src, Publisher: f.pub}
	f.h = &preview.Handler{
		Planner: planner, Deploys: &release.Handler{Planner: planner, Claims: f.claims},
		Publisher: f.pub, Store: &store{m: map[string]preview.Preview{}},
		Target: f.target, Envs: envRecords{}, PullRequests: f.open, Now: func() time.Time { return f.now },
	}
	return f
}

func pr(action string, n int, head string) *events.PullRequestChanged {
	return &events.PullRequestChanged{Repo: repo, Action: action, Number: n, HeadSHA: head, HeadBranch: "feature", BaseBranch: "main",
		SourceRepo: repo, Author: "ada"}
}

// kinds summarises events as "type:env/commit".
func kinds(evs []events.Event) []string {
	var out []string
	for _, e := range evs {
		switch e := e.(type) {
		case *events.BuildRequested:
			out = append(out, "build:"+e.Commit[:1])
		case *events.DeployRequested:
			out = append(out, "deploy:"+e.Env+"/"+e.Commit[:1]+"/"+e.Nonce)
		case *events.PreviewRemoved:
			out = append(out, "removed:"+e.Env+"/"+e.Reason)
		case *events.BuildFailed:
			out = append(out, "failed:"+e.Commit[:1])
		default:
			out = append(out, e.EventType())
		}
	}
	return out
}

func TestPreviewLifecycle(t *testing.T) {
	f := newFixture()
	ctx := context.Background()
	steps := []struct {
		name string
		do   func() error
		want []string
	}{
		{"opened, not built: build requested", func() error { return f.h.HandlePullRequest(ctx, pr(events.PROpened, 7, h1)) }, []string{"build:1"}},
		{"built: deployed", func() error {
			built(f.claims, h1)
			return f.h.HandleBuilt(ctx, &events.CommitBuilt{Repo: repo, Commit: h1, Branch: "feature"})
		}, []string{"deploy:preview-7/1/preview-1"}},
		{"updated to a built commit: deployed at once", func() error {
			built(f.claims, h2)
			return f.h.HandlePullRequest(ctx, pr(events.PRUpdated, 7, h2))
		}, []string{"deploy:preview-7/2/preview-1"}},
		{"a stale build of the old head deploys nothing", func() error {
			return f.h.HandleBuilt(ctx, &events.CommitBuilt{Repo: repo, Commit: h1, Branch: "feature"})
		}, nil},
		{"closed: removed", func() error {
			f.target.running["preview-7"] = true
			return f.h.HandlePullRequest(ctx, pr(events.PRClosedUnmerged, 7, h2))
		}, []string{"removed:preview-7/closed"}},
		{"closed again: nothing", func() error { return f.h.HandlePullRequest(ctx, pr(events.PRClosedUnmerged, 7, h2)) }, nil},
		{"reopened: a new generation", func() error { return f.h.HandlePullRequest(ctx, pr(events.PRReopened, 7, h2)) }, []string{"deploy:preview-7/2/preview-2"}},
		{"merged: removed", func() error { return f.h.HandlePullRequest(ctx, pr(events.PRClosedMerged, 7, h2)) }, []string{"removed:preview-7/merged"}},
		{"no previews declared", func() error { return f.h.HandlePullRequest(ctx, pr(events.PROpened, 8, h4)) }, nil},
	}
	for _, st := range steps {
		err := st.do()
		var ign *events.IgnoredError
		if err != nil && !errors.As(err, &ign) {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := kinds(f.pub.Take()); fmt.Sprint(got) != fmt.Sprint(st.want) {
			t.Errorf("%s: events %v, want %v", st.name, got, st.want)
		}
	}
	if f.target.running["preview-7"] {
		t.Error("preview-7 still runs")
	}
}

func TestPreviewDeployValues(t *testing.T) {
	f := newFixture()
	built(f.claims, h1)
	if err := f.h.HandlePullRequest(context.Background(), pr(events.PROpened, 3, h1)); err != nil {
		t.Fatal(err)
	}
	req := f.pub.Take()[0].(*events.DeployRequested)
	if req.Images[0].Service.Env["MODE"] != "preview" || req.Images[0].Digest != "sha256:"+h1[:8] || req.Actor != "ada" {
		t.Errorf("request %+v: want the template's values on the built digest", req)
	}
}

func TestPreviewForks(t *testing.T) {
	f := newFixture()
	e := pr(events.PROpened, 4, h1)
	e.SourceRepo = events.Repo{FullName: "mallory/shop", CloneURL: "http://git.invalid/mallory/shop.git"}
	err := f.h.HandlePullRequest(context.Background(), e)
	var ign *events.IgnoredError
	if !errors.As(err, &ign) || len(f.pub.Take()) != 0 {
		t.Fatalf("fork: %v, want ignored without events", err)
	}
	f.h.Config.AllowForks = true
	if err := f.h.HandlePullRequest(context.Background(), e); err != nil || len(f.pub.Take()) != 1 {
		t.Fatalf("fork allowed: %v", err)
	}
}

func TestPreviewBadManifest(t *testing.T) {
	f := newFixture()
	err := f.h.HandlePullRequest(context.Background(), pr(events.PROpened, 5, h3))
	if !events.IsPermanent(err) {
		t.Fatalf("err = %v, want permanent", err)
	}
	if got := kinds(f.pub.Take()); fmt.Sprint(got) != "[failed:3]" {
		t.Errorf("events %v, want the commit's build failure", got)
	}
}

func TestReconcile(t *testing.T) {
	f := newFixture()
	ctx := context.Background()
	built(f.claims, h1)
	for _, n := range []int{1, 2, 3} {
		f.open[n] = true
		if err := f.h.HandlePullRequest(ctx, pr(events.PROpened, n, h1)); err != nil {
			t.Fatal(err)
		}
		f.target.running[fmt.Sprintf("preview-%d", n)] = true
	}
	f.pub.Take()

	// #2 closed without its webhook; #3 was last updated long ago.
	delete(f.open, 2)
	f.now = f.now.Add(30 * time.Minute)
	for _, n := range []int{1, 2} {
		if err := f.h.HandlePullRequest(ctx, pr(events.PRUpdated, n, h1)); err != nil {
			t.Fatal(err)
		}
	}
	f.now = f.now.Add(45 * time.Minute)
	f.pub.Take()
	if err := f.h.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if got := kinds(f.pub.Take()); fmt.Sprint(got) != "[removed:preview-2/missed removed:preview-3/expired]" {
		t.Errorf("reconcile: %v", got)
	}
	if !f.target.running["preview-1"] || f.target.running["preview-2"] || f.target.running["preview-3"] {
		t.Errorf("running after reconcile: %v", f.target.running)
	}

	// A deploy that raced the close brings preview-2 back: removed again.
	f.target.running["preview-2"] = true
	if err := f.h.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if f.target.running["preview-2"] {
		t.Error("a resurrected preview was not removed")
	}
	// Past the retention the closed records are forgotten.
	f.now = f.now.Add(25 * time.Hour)
	delete(f.open, 1)
	if err := f.h.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.h.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if all, _ := f.h.Store.List(ctx); len(all) != 1 || all[0].Number != 1 || all[0].Open {
		t.Errorf("records %+v, want only #1, closed", all)
	}
}
