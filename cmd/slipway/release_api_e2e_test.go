package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/events"
)

// TestReleaseByAPIEndToEnd releases a commit healthy on staging to
// production through the HTTP API (`slipway release -api -env`), against
// a real Slipway (BuildKit, registry, Docker): production serves it from
// the images built for staging, nothing is solved again, no branch is
// pushed, and the deploy records kind release and the token's name.
func TestReleaseByAPIEndToEnd(t *testing.T) {
	requireComponents(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r := startRigWith(t, ctx, func(c *pipeline.Config) { c.API.Addr = "127.0.0.1:0" })
	out := &bytes.Buffer{}
	defer func() {
		if t.Failed() {
			t.Logf("command output:\n%s", out)
		}
	}()
	c1 := r.push(t, ctx, r.s, "Add web and api", "").After
	r.waitServingIn(t, ctx, r.stg, c1)
	r.waitAllIdle(t, ctx)
	tokens, err := api.OpenTokens(ctx, r.up.Conn().JS)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := tokens.Create(ctx, "ops-ann", api.RoleDeploy)
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	a := &apiClient{URL: r.up.APIURL(), TokenFile: tokenFile}
	refs := r.git(t, "ls-remote", "origin")
	solves := r.solves(t, ctx, c1)

	start := time.Now()
	if err := releaseOverAPI(ctx, a, releaseOptions{Env: r.prod, Repo: sample.RepoName}, c1[:12], "first release", 3*time.Minute, out); err != nil {
		t.Fatal(err)
	}
	t.Logf("production released to %s through the API in %s", c1[:12], time.Since(start).Round(time.Millisecond))
	r.requireEnv(t, ctx, r.prod, c1)
	if got := r.greeting(ctx, r.prod, "web"); got != "hello from production" {
		t.Errorf("web in production greets %q, want production's value", got)
	}
	if !strings.Contains(out.String(), "succeeded") {
		t.Errorf("release output %q, want the deploy's outcome", out.String())
	}
	deploys := mustDeploys(t, ctx, r, r.prod)
	if len(deploys) != 1 {
		t.Fatalf("%d deploys of production, want 1", len(deploys))
	}
	if d := deploys[0]; d.Commit != c1 || d.Kind != events.KindRelease || d.Actor != "ops-ann" || !d.Succeeded() || !strings.HasPrefix(d.Trigger, "release.") {
		t.Errorf("production's deploy %+v: want a release of %s by ops-ann triggered by its request", d.DeployResult, c1[:12])
	}
	if got := r.solves(t, ctx, c1); got != solves {
		t.Errorf("%d solves of %s after the release, %d before: want no rebuild", got, c1[:12], solves)
	}
	if got := r.git(t, "ls-remote", "origin"); got != refs {
		t.Errorf("the remote's refs changed:\n%s\nwant\n%s", got, refs)
	}

	// A commit never built is refused with the reason; production stays.
	orphan := r.git(t, "commit-tree", c1+"^{tree}", "-p", c1, "-m", "never pushed")
	err = releaseOverAPI(ctx, a, releaseOptions{Env: r.prod, Repo: sample.RepoName}, orphan, "", time.Minute, out)
	if err == nil || !strings.Contains(err.Error(), "not a commit of") {
		t.Errorf("release of a commit Slipway never saw: %v, want a refusal", err)
	}
	r.requireEnv(t, ctx, r.prod, c1)
}
