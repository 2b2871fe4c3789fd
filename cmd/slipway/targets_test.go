package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target/targettest"
)

// TestStatusAndHistoryNameTheTarget: `slipway status` shows each
// environment's target and, per node, the replicas that run there, probed
// through the target; an environment on a target this command was not
// given says so. `slipway history` names the target of each deploy, local
// for the deploys of earlier versions.
func TestStatusAndHistoryNameTheTarget(t *testing.T) {
	cli := dockertest.MustDocker(t)
	serve := dockertest.MustImage(t, cli, "serve", targettest.ServeCmd...)
	srv := natsjs.MustServer(t)
	cfg := pipeline.DefaultConfig()
	cfg.MirrorDir = t.TempDir()
	ctx := context.Background()
	c, err := pipeline.Dial(ctx, srv.ClientURL(), "status-test", cfg.Topology)
	if err != nil {
		t.Fatal(err)
	}
	defer c.NC.Close()
	local, err := pipeline.NewTarget(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	here, away, v1 := dockertest.RandomName("t"), dockertest.RandomName("t"), dockertest.RandomCommit()
	t.Cleanup(func() { _ = local.Remove(context.Background(), "acme/shop", here) })
	img := events.Image{Service: events.ServiceSpec{Name: "web", Port: targettest.Port, HealthPath: "/healthz", Replicas: 2}, Ref: serve.Ref, Digest: serve.Digest}
	if err := local.Deploy(ctx, deploy.Deployment{Env: here, Repo: "acme/shop", Commit: v1, Images: []events.Image{img}}); err != nil {
		t.Fatal(err)
	}
	envs, err := c.Envs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	repo := events.Repo{FullName: "acme/shop"}
	for _, st := range []deploy.State{
		{Env: here, Repo: repo, Commit: v1, Images: []events.Image{img}, DeployedAt: time.Now()},
		{Env: away, Repo: repo, Commit: v1, Images: []events.Image{img}, DeployedAt: time.Now(), Target: "prod-hosts"},
	} {
		if err := envs.Record(ctx, st); err != nil {
			t.Fatal(err)
		}
	}

	var out strings.Builder
	if err := statusOf(ctx, c, &cfg, "acme/shop", &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		here + `\s+` + v1[:12] + `\s+web\s+sha256:\S+\s+running 2/2\s+healthy\s+\S+\s+local\s+local=r0,r1\n`,
		away + `\s+` + v1[:12] + `\s+-\s+-\s+unknown\s+-\s+-\s+prod-hosts \(not configured here: pass -targets-file\)`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("status does not match %s:\n%s", want, out.String())
		}
	}

	pctx, stop := context.WithCancel(ctx)
	projected := make(chan error, 1)
	go func() { projected <- pipeline.RunProjector(pctx, &cfg, c) }()
	t.Cleanup(func() {
		stop()
		if err := <-projected; err != nil && pctx.Err() == nil {
			t.Errorf("projector: %v", err)
		}
	})
	pub := natsjs.NewPublisher(c.JS, "/test")
	for _, tg := range []string{"", "prod-hosts"} {
		req := (&events.DeployRequested{Env: here, Repo: repo, Commit: dockertest.RandomCommit(), Images: []events.Image{img}, Target: tg}).
			Ask(events.KindAuto, "test", events.ActorSlipway, "")
		if _, err := pub.Publish(ctx, req.Result(events.OutcomeSucceeded, "", time.Now()).Event()); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	if err := history(ctx, c, "acme/shop", here, 0, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "TARGET") || !regexp.MustCompile(`slipway\s+local\s`).MatchString(lines[1]) ||
		!regexp.MustCompile(`slipway\s+prod-hosts\s`).MatchString(lines[2]) {
		t.Errorf("history does not name the targets local and prod-hosts:\n%s", out.String())
	}
}
