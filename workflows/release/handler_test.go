package release_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/release"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

const services = `version: 1
services:
  - {name: web, context: web, port: 8080, env: {GREETING: hello}}
  - {name: api, context: api, port: 9090}
`

const declared = services + `environments:
  stage: {}
  qa: {branch: develop}
  prod:
    pin: deploy/prod.yaml
    services:
      web: {env: {GREETING: hello from prod}, replicas: 2}
  pr: {previews: true}
`

var (
	webSpec = events.ServiceSpec{Name: "web", Context: "web", Dockerfile: "Dockerfile", Port: 8080, HealthPath: "/", Env: map[string]string{"GREETING": "hello"}}
	apiSpec = events.ServiceSpec{Name: "api", Context: "api", Dockerfile: "Dockerfile", Port: 9090, HealthPath: "/"}
)

func newHandler(src workflowstest.Files, c workflowstest.Results, st envs, h history, log gitLog) (*release.Handler, *workflowstest.Recorder) {
	p := &workflowstest.Recorder{}
	return &release.Handler{
		Config: release.Config{StagingEnv: "staging-x"}, Source: src, Claims: c, Publisher: p,
		Planner: &build.Planner{Source: src, Publisher: p},
		Envs:    st, History: h, Log: log,
	}, p
}

func builtEvent(sha, branch string) *events.CommitBuilt {
	w, a := image("web", sha), image("api", sha)
	w.Service, a.Service = webSpec, apiSpec
	return &events.CommitBuilt{Repo: repo, Commit: sha, Branch: branch, Images: []events.Image{w, a}}
}

func TestHandleBuilt(t *testing.T) {
	src := workflowstest.Files{c1: {"slipway.yaml": declared}, c2: {"slipway.yaml": services}, c3: {}}
	tests := []struct {
		name     string
		event    *events.CommitBuilt
		wantEnvs []string
		ignored  bool
	}{
		{"default branch to the declared staging", builtEvent(c1, "main"), []string{"stage"}, false},
		{"a branch another environment follows", builtEvent(c1, "develop"), []string{"qa"}, false},
		{"a branch nothing follows", builtEvent(c1, "feature"), nil, true},
		{"no environments declared: the configured staging", builtEvent(c2, "main"), []string{"staging-x"}, false},
		{"slipway.yaml gone: the defaults", builtEvent(c3, "main"), []string{"staging-x"}, false},
		{"force-pushed back: explicit", func() *events.CommitBuilt { e := builtEvent(c1, "main"); e.Push = "push.x"; return e }(), []string{"stage"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, p := newHandler(src, workflowstest.Results{}, nil, nil, nil)
			err := h.HandleBuilt(context.Background(), tt.event)
			var ign *events.IgnoredError
			if tt.ignored != errors.As(err, &ign) || (!tt.ignored && err != nil) {
				t.Fatalf("HandleBuilt() = %v, ignored want %v", err, tt.ignored)
			}
			reqs := workflowstest.Of[*events.DeployRequested](p)
			var got []string
			for _, r := range reqs {
				got = append(got, r.Env)
				moved := tt.event.Push != ""
				if r.Commit != tt.event.Commit || r.Deliberate() != moved || r.Explicit != moved || r.Trigger != tt.event.DedupKey() || len(r.Images) != 2 {
					t.Errorf("request %+v", r)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.wantEnvs, ",") {
				t.Errorf("deploys to %v, want %v", got, tt.wantEnvs)
			}
		})
	}
}

func pinPush(before, after string) *events.PushReceived {
	return &events.PushReceived{Repo: repo, Ref: "refs/heads/main", Branch: "main", Before: before, After: after, Pusher: "ada"}
}

func TestHandlePush(t *testing.T) {
	pin := func(sha string) string { return string(manifest.FormatPin("prod", sha)) }
	src := workflowstest.Files{
		c1: {"slipway.yaml": declared},
		c2: {"slipway.yaml": declared, "deploy/prod.yaml": pin(c1)},
		c3: {"slipway.yaml": declared, "deploy/prod.yaml": pin(c1)},
		c4: {"slipway.yaml": declared, "deploy/prod.yaml": pin(c3)},
	}
	c := workflowstest.Results{}
	built(c, c1, webSpec, apiSpec)
	tests := []struct {
		name       string
		push       *events.PushReceived
		running    string
		wantDeploy string
		wantFailed string
	}{
		{"pin file added", pinPush(c1, c2), "", c1, ""},
		{"pin file added, environment runs it", pinPush(c1, c2), c1, "", ""},
		{"pin unchanged", pinPush(c2, c3), "", "", ""},
		{"pin moved to a commit never built", pinPush(c3, c4), c1, "", c3},
		{"not the default branch", &events.PushReceived{Repo: repo, Branch: "develop", Before: c2, After: c4}, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := envs{}
			if tt.running != "" {
				st["prod"] = deploy.State{Env: "prod", Repo: repo, Commit: tt.running}
			}
			h, p := newHandler(src, c, st, nil, nil)
			err := h.HandlePush(context.Background(), tt.push)
			var ign *events.IgnoredError
			if err != nil && !errors.As(err, &ign) {
				t.Fatal(err)
			}
			reqs := workflowstest.Of[*events.DeployRequested](p)
			switch {
			case tt.wantDeploy == "" && len(reqs) > 0:
				t.Fatalf("requested %+v, want nothing", reqs[0])
			case tt.wantDeploy != "":
				if len(reqs) != 1 {
					t.Fatalf("%d requests, want 1", len(reqs))
				}
				r := reqs[0]
				if r.Env != "prod" || r.Commit != tt.wantDeploy || !r.Explicit || r.Nonce != "release-"+tt.push.After[:12] ||
					r.Actor != "ada" || r.Trigger != tt.push.DedupKey() {
					t.Errorf("request %+v", r)
				}
				if w := r.Images[0]; w.Digest != image("web", tt.wantDeploy).Digest || w.Service.Env["GREETING"] != "hello from prod" || w.Service.Replicas != 2 {
					t.Errorf("web image %+v: want the built digest with prod's values", w)
				}
			}
			failed := workflowstest.Of[*events.DeployFailed](p)
			if (tt.wantFailed == "") != (len(failed) == 0) {
				t.Fatalf("failures %+v, want one for %q", failed, tt.wantFailed)
			}
			if tt.wantFailed != "" && (failed[0].Commit != tt.wantFailed || !strings.Contains(failed[0].Reason, "never built") && !strings.Contains(failed[0].Reason, "not built")) {
				t.Errorf("failure %+v", failed[0])
			}
		})
	}
}

func TestHandlePullRequestPlans(t *testing.T) {
	pin := func(sha string) string { return string(manifest.FormatPin("prod", sha)) }
	head := "5555555555555555555555555555555555555555"
	src := workflowstest.Files{
		c1:   {"slipway.yaml": declared},
		c2:   {"slipway.yaml": declared},
		c3:   {"slipway.yaml": services + "environments:\n  stage: {}\n  prod:\n    pin: deploy/prod.yaml\n"},
		head: {"slipway.yaml": declared, "deploy/prod.yaml": pin(c3)},
	}
	c := workflowstest.Results{}
	built(c, c1, webSpec, apiSpec)
	built(c, c3, webSpec, apiSpec)
	prev := image("web", c1)
	prev.Digest = image("web", c3).Digest // web did not change between c1 and c3
	st := envs{"prod": {Env: "prod", Repo: repo, Commit: c1, Images: []events.Image{prev, image("api", c1)}}}
	hist := history{"stage": {deployed("stage", c3, events.OutcomeFailed, 9, "")}}
	h, p := newHandler(src, c, st, hist, gitLog{c1, c2, c3})
	pr := &events.PullRequestChanged{Repo: repo, Action: events.PROpened, Number: 7, HeadSHA: head, BaseBranch: "main"}
	if err := h.HandlePullRequest(context.Background(), pr); err != nil {
		t.Fatal(err)
	}
	plans := workflowstest.Of[*events.ReleasePlanned](p)
	if len(plans) != 1 {
		t.Fatalf("%d plans, want 1", len(plans))
	}
	got := plans[0]
	if got.Env != "prod" || got.From != c1 || got.To != c3 || got.Number != 7 || got.HeadSHA != head || got.Backwards {
		t.Errorf("plan %+v", got)
	}
	want := []events.ServiceChange{
		{Service: "api", From: image("api", c1).Digest, To: image("api", c3).Digest, Change: events.ChangeUpdated},
		{Service: "web", From: image("web", c3).Digest, To: image("web", c3).Digest, Change: events.ChangeUnchanged},
	}
	if len(got.Services) != 2 || got.Services[0] != want[0] || got.Services[1] != want[1] {
		t.Errorf("services %+v, want %+v", got.Services, want)
	}
	if got.CommitCount != 2 || got.Commits[0].ID != c3 || got.Commits[1].ID != c2 {
		t.Errorf("commits %d %+v, want c3 and c2", got.CommitCount, got.Commits)
	}
	if len(got.Problems) != 1 || !strings.Contains(got.Problems[0], "never ran healthy on stage") {
		t.Errorf("problems %q, want the failed staging deploy", got.Problems)
	}

	// Healthy on staging now, and released: no plan for a pull request
	// pinning what production runs.
	hist["stage"] = append(hist["stage"], deployed("stage", c3, events.OutcomeSucceeded, 10, ""))
	pr.Action, pr.HeadSHA = events.PRUpdated, head
	if err := h.HandlePullRequest(context.Background(), pr); err != nil {
		t.Fatal(err)
	}
	if plans := workflowstest.Of[*events.ReleasePlanned](p); len(plans[1].Problems) != 0 {
		t.Errorf("problems %q after a healthy staging deploy", plans[1].Problems)
	}
	st["prod"] = deploy.State{Env: "prod", Repo: repo, Commit: c3}
	err := h.HandlePullRequest(context.Background(), pr)
	var ign *events.IgnoredError
	if !errors.As(err, &ign) {
		t.Errorf("pull request pinning the running commit: %v, want ignored", err)
	}
}

func TestHandlePushBuildsFollowedBranches(t *testing.T) {
	src := workflowstest.Files{c1: {"slipway.yaml": declared}}
	for branch, want := range map[string]int{"develop": 2, "feature": 0} {
		h, p := newHandler(src, workflowstest.Results{}, nil, nil, nil)
		err := h.HandlePush(context.Background(), &events.PushReceived{Repo: repo, Ref: "refs/heads/" + branch, Branch: branch, After: c1})
		var ign *events.IgnoredError
		if err != nil && !errors.As(err, &ign) {
			t.Fatal(err)
		}
		reqs := workflowstest.Of[*events.BuildRequested](p)
		if len(reqs) != want || (want > 0 && (reqs[0].Branch != branch || reqs[0].Commit != c1 || reqs[0].Service.Name == "")) {
			t.Errorf("push to %s: build requests %+v, want %d", branch, reqs, want)
		}
	}
}
