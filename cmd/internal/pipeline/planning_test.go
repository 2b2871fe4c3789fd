package pipeline

import (
	"context"
	"testing"

	"github.com/slipway-dev/slipway/events/natsjs"
)

// TestPlanningShared wires a builder and the release and preview workflows
// the way `slipway up` does, on an embedded JetStream: all three plan with
// the one build.Planner of the builder's planning, which reads through the
// builder's mirror. Without a planning the deployer's workflows share one
// of their own.
func TestPlanningShared(t *testing.T) {
	srv := natsjs.MustServer(t)
	cfg := DefaultConfig()
	cfg.MirrorDir = t.TempDir()
	ctx := context.Background()
	c, err := Dial(ctx, srv.ClientURL(), "planning-test", cfg.Topology)
	if err != nil {
		t.Fatal(err)
	}
	defer c.NC.Close()

	p, err := builderPlanning(&cfg, c)
	if err != nil {
		t.Fatal(err)
	}
	h, closeBuilder, err := buildHandler(ctx, &cfg, c, p)
	if err != nil {
		t.Fatal(err)
	}
	defer closeBuilder()
	w, err := newReleaseWorkflows(ctx, &cfg, c, nil, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	if h.Planner != p.Planner || w.Release.Planner != p.Planner || w.Preview.Planner != p.Planner || h.Source != p.Mirror {
		t.Errorf("builder, release and preview plan with %p, %p, %p; want the shared %p", h.Planner, w.Release.Planner, w.Preview.Planner, p.Planner)
	}
	if w.Preview.Deploys != w.Release {
		t.Error("the preview workflow's deploy requests are not the release workflow's")
	}

	own, err := NewReleaseWorkflows(ctx, &cfg, c, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if own.Release.Planner == p.Planner || own.Release.Planner != own.Preview.Planner {
		t.Errorf("a deployer of its own plans with %p (release) and %p (preview); want one planner of its own", own.Release.Planner, own.Preview.Planner)
	}
}
