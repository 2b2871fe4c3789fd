package build_test

import (
	"context"
	"testing"

	"github.com/slipway-dev/slipway/events"
)

// TestHandlePushForcedBack builds a commit, then receives a force-push of
// main back to it: it is announced built again, naming the push, without a
// build request; the same push again names the same key; a force-push to a
// commit not built yet is planned as usual.
func TestHandlePushForcedBack(t *testing.T) {
	h, p := newHandler(t, sources, &builder{})
	ctx := context.Background()
	for _, r := range requests() {
		if err := h.HandleBuild(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	before := len(p.OfType(events.TypeCommitBuilt))
	back := push("main")
	back.Before, back.Forced = "fedcba9876543210fedcba9876543210fedcba98", true
	for range 2 {
		if err := h.HandlePush(ctx, back); err != nil {
			t.Fatal(err)
		}
	}
	built := p.OfType(events.TypeCommitBuilt)[before:]
	if len(built) != 2 || len(p.OfType(events.TypeBuildRequested)) != 0 {
		t.Fatalf("%d commit-built events and %d build requests after the force-push; want 2 (one per delivery) and none", len(built), len(p.OfType(events.TypeBuildRequested)))
	}
	e := built[0].(*events.CommitBuilt)
	if e.Push != back.DedupKey() || e.Commit != sha || len(e.Images) != 2 || built[1].DedupKey() != e.DedupKey() ||
		e.DedupKey() == events.CommitKey(repo.FullName, "main", sha) {
		t.Errorf("commit built again %+v (key %s), redelivery key %s", e, e.DedupKey(), built[1].DedupKey())
	}

	fresh, pf := newHandler(t, sources, &builder{})
	if err := fresh.HandlePush(ctx, back); err != nil {
		t.Fatal(err)
	}
	if n := len(pf.OfType(events.TypeBuildRequested)); n != 2 || len(pf.OfType(events.TypeCommitBuilt)) != 0 {
		t.Errorf("force-push to an unbuilt commit: %d build requests, want 2 and no commit built", n)
	}
}
