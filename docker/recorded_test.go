package docker_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// TestDeployRecordedAsPromoted: the deploy workflow on the Docker target
// and JetStream records a deploy (environment state, history) as its new
// container starts serving, while the replaced one still drains: `slipway
// history` shows it as soon as it answers.
func TestDeployRecordedAsPromoted(t *testing.T) {
	f := MustFixture(t, docker.Options{DrainDelay: 4 * time.Second, StopTimeout: 2 * time.Second})
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := f.ctx
	claimsKV, err := js.KeyValue(ctx, natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	envsKV, err := js.KeyValue(ctx, natsjs.BucketEnvs)
	if err != nil {
		t.Fatal(err)
	}
	h := &deploy.Handler{
		Config: deploy.Config{ClaimTTL: time.Minute}, Target: f.t, Claims: natsstore.NewClaims(claimsKV, "test"),
		Publisher: natsjs.NewPublisher(js, "/test"), Store: natsstore.NewEnvStore(envsKV),
	}
	repo := events.Repo{FullName: f.repo}
	request := func(commit string) *events.DeployRequested {
		// Each commit changes web (RELEASE), so that it is replaced.
		return &events.DeployRequested{Env: f.env, Repo: repo, Commit: commit, Images: f.deployment(commit, web(f.serve)).Images}
	}
	v1, v2 := dockertest.RandomCommit(), dockertest.RandomCommit()
	if err := h.HandleDeploy(ctx, request(v1)); err != nil {
		t.Fatal(err)
	}
	old := f.MustServe(t, v1)

	done := make(chan error, 1)
	go func() { done <- h.HandleDeploy(ctx, request(v2)) }()
	for deadline := time.Now().Add(time.Minute); !recorded(t, ctx, js, f.repo, f.env, v2); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the deploy of v2 was never recorded")
		}
	}
	// Recorded: the old container still drains, the new one answers under
	// the live name (the proxy follows within its cache's ttl).
	drained := true
	for _, c := range f.containers(t) {
		if c.ID == old.ID && c.State == "running" {
			drained = false
		}
	}
	if drained {
		t.Error("the deploy was recorded only after the replaced container was stopped")
	}
	rel, err := f.t.Current(ctx, f.repo, f.env)
	if err != nil || rel.Commit() != v2 || len(rel.Services) != 1 || MustGet(t, "http://"+rel.Services[0].Addr+"/", "") != v2 {
		t.Errorf("recorded, but the live container is %+v (%v), want v2 answering", rel, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.MustServe(t, v2)
	hist, err := natsstore.DeployHistory(ctx, js, f.repo, f.env)
	if err != nil || len(hist) != 2 {
		t.Errorf("history: %d results (%v), want v1 and v2 once each", len(hist), err)
	}
}

// recorded reports whether the history of env shows commit deployed.
func recorded(t *testing.T, ctx context.Context, js jetstream.JetStream, repo, env, commit string) bool {
	t.Helper()
	hist, err := natsstore.DeployHistory(ctx, js, repo, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range hist {
		ev, err := m.Decode()
		if err != nil {
			continue
		}
		if r, ok := events.ResultOf(ev); ok && r.Commit == commit && r.Outcome == events.OutcomeSucceeded {
			return true
		}
	}
	return false
}
