package release_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/workflows/release"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

// placed declares where its environments run.
var placed = strings.Replace(strings.Replace(declared, "  stage: {}", "  stage: {target: cluster}", 1),
	"    pin: deploy/prod.yaml", "    pin: deploy/prod.yaml\n    target: prod-hosts", 1)

// TestRequestsNameTheTarget: a deploy request names the target the
// environment's slipway.yaml gives it, for a built commit and for a release.
func TestRequestsNameTheTarget(t *testing.T) {
	pin := string(manifest.FormatPin("prod", c1))
	src := workflowstest.Files{c1: {"slipway.yaml": placed}, c2: {"slipway.yaml": placed, "deploy/prod.yaml": pin}}
	c := workflowstest.Results{}
	built(c, c1, webSpec, apiSpec)

	h, p := newHandler(src, c, envs{}, nil, nil)
	if err := h.HandleBuilt(context.Background(), builtEvent(c1, "main")); err != nil {
		t.Fatal(err)
	}
	if err := h.HandlePush(context.Background(), pinPush(c1, c2)); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range workflowstest.Of[*events.DeployRequested](p) {
		got[r.Env] = r.Target
	}
	if got["stage"] != "cluster" || got["prod"] != "prod-hosts" || len(got) != 2 {
		t.Errorf("requests to %v (env to target), want stage on cluster and prod on prod-hosts", got)
	}
}

// TestRollbackAndReplayKeepTheTarget: a rollback or a replay runs where the
// deploy it repeats ran.
func TestRollbackAndReplayKeepTheTarget(t *testing.T) {
	res := events.DeployResult{Env: "prod", Repo: repo, Commit: c1, Images: []events.Image{image("web", c1)}, Target: "prod-hosts", Outcome: events.OutcomeSucceeded}
	if r := release.RollbackRequest(release.Deploy{DeployResult: res, ID: "id1"}, "ada", "n1"); r.Target != "prod-hosts" {
		t.Errorf("rollback request targets %q, want prod-hosts", r.Target)
	}
	r, ok := release.ReplayRequest(&events.DeploySucceeded{DeployResult: res}, "id1", "ada", "n2")
	if !ok || r.Target != "prod-hosts" {
		t.Errorf("replay request %+v, %v; want it on prod-hosts", r, ok)
	}
}
