package deploy_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/gitmirror"
	"github.com/slipway-dev/slipway/gitmirror/gittest"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

// TestForcePushBackDeploysTheEarlierCommit pushes A then B (B descends from
// A, in a real git repository) to main, each deployed to staging, then
// force-pushes main back to A: the commit-built event naming that push
// deploys A again, although git orders it before the running B, while A's
// first commit-built event, delivered again, is still skipped as older.
func TestForcePushBackDeploysTheEarlierCommit(t *testing.T) {
	g := gittest.MustRepo(t)
	g.WriteFile("slipway.yaml", "version: 1\n")
	a := g.Commit("A")
	g.WriteFile("README", "b\n")
	b := g.Commit("B")
	mirror, err := gitmirror.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := g.Events("acme/shop")

	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	tg := newSlowTarget(0)
	h, _ := lockedHandler(t, js, "a", tg, time.Minute)
	h.Queue, h.Ancestry = natsstore.NewDeployQueue(js), mirror
	pub := natsjs.NewPublisher(js, "/test")
	// built requests the deploy as release.HandleBuilt does for a commit-built
	// event (release.TestHandleBuilt holds that part): a force-push back is
	// explicit, with a nonce of the push.
	built := func(sha, push string) error {
		images := []events.Image{{Service: events.ServiceSpec{Name: "web"}, Ref: "r/web:" + sha, Digest: "sha256:" + sha}}
		e := &events.CommitBuilt{Repo: r, Commit: sha, Branch: "main", Images: images, Push: push}
		req := &events.DeployRequested{Env: "staging", Repo: r, Commit: sha, Images: images, Trigger: e.DedupKey(), Actor: "slipway"}
		if push != "" {
			req.Nonce, req.Explicit = events.MoveNonce(push), true
		}
		reqs := []*events.DeployRequested{req}
		if _, err := pub.Publish(context.Background(), reqs[0]); err != nil {
			return err
		}
		h.Publisher = &workflowstest.Recorder{}
		if err := h.HandleDeploy(context.Background(), reqs[0]); err != nil && !errors.Is(err, events.ErrAlreadyDone) {
			return err
		}
		return nil
	}
	back := (&events.PushReceived{Repo: r, Ref: "refs/heads/main", Branch: "main", Before: b, After: a, Forced: true}).DedupKey()
	for _, step := range []struct{ sha, push string }{{a, ""}, {b, ""}, {a, ""}, {a, back}} {
		if err := built(step.sha, step.push); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := strings.Join(tg.applied["staging"], ","), strings.Join([]string{a, b, a}, ","); got != want {
		t.Errorf("staging applied %s, want %s (A, B, then A again after the force-push)", got, want)
	}
}
