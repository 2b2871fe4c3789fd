package freeze_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/freeze"
	"github.com/slipway-dev/slipway/workflows/gate"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

var repo = events.Repo{FullName: "acme/shop", DefaultBranch: "main"}

func mustStore(t *testing.T) *natsstore.FreezeStore {
	t.Helper()
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	kv, err := js.KeyValue(context.Background(), natsjs.BucketFreezes)
	if err != nil {
		t.Fatal(err)
	}
	return natsstore.NewFreezeStore(kv)
}

func auto(sha string) *events.DeployRequested {
	return (&events.DeployRequested{Env: "staging", Repo: repo, Commit: sha}).Ask(events.KindAuto, "built."+sha, events.ActorSlipway, "")
}

// TestFreezeHoldsTheLatestAutomaticDeploy: a frozen environment holds its
// automatic deploys (the latest kept), lets a rollback through, and its
// unlock publishes the latest held request once.
func TestFreezeHoldsTheLatestAutomaticDeploy(t *testing.T) {
	ctx := context.Background()
	s := mustStore(t)
	now := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	g := &freeze.Gate{Store: s, Now: func() time.Time { return now }}
	if v, err := g.Admit(ctx, auto("aaaa"), nil); err != nil || v.State != gate.Open {
		t.Fatalf("before the lock: %+v, %v; want open", v, err)
	}
	if _, err := freeze.Lock(ctx, s, freeze.Freeze{Repo: repo.FullName, Env: "staging", Actor: "ada"}, 0, now); err == nil {
		t.Fatal("lock without a reason: no error")
	}
	if _, err := freeze.Lock(ctx, s, freeze.Freeze{Repo: repo.FullName, Env: "staging", Reason: "incident 42", Actor: "ada"}, 0, now); err != nil {
		t.Fatal(err)
	}
	for _, sha := range []string{"bbbb", "cccc", "cccc"} {
		v, err := g.Admit(ctx, auto(sha), nil)
		if err != nil || v.State != gate.Held || v.Gate != "freeze" || !strings.Contains(v.Reason, "frozen by ada") || !strings.Contains(v.Reason, "incident 42") {
			t.Fatalf("auto deploy of %s while frozen: %+v, %v; want held with the reason", sha, v, err)
		}
	}
	rb := (&events.DeployRequested{Env: "staging", Repo: repo, Commit: "aaaa"}).Ask(events.KindRollback, "cli", "ada", "1")
	if v, err := g.Admit(ctx, rb, nil); err != nil || v.State != gate.Open {
		t.Fatalf("rollback while frozen: %+v, %v; want open", v, err)
	}
	f, _, found, err := s.Get(ctx, repo.FullName, "staging")
	if err != nil || !found || f.Held == nil || f.Held.Commit != "cccc" {
		t.Fatalf("freeze record %+v (found %v, %v): want cccc held", f, found, err)
	}
	pub := &workflowstest.Recorder{}
	if _, ok, err := freeze.Unlock(ctx, s, pub, repo.FullName, "staging"); err != nil || !ok {
		t.Fatalf("unlock: %v %v", ok, err)
	}
	sent := workflowstest.Of[*events.DeployRequested](pub)
	if len(sent) != 1 || sent[0].Commit != "cccc" || sent[0].DedupKey() != auto("cccc").DedupKey() {
		t.Fatalf("unlock published %+v, want cccc's automatic request", sent)
	}
	if v, err := g.Admit(ctx, auto("dddd"), nil); err != nil || v.State != gate.Open {
		t.Fatalf("after unlock: %+v, %v; want open", v, err)
	}
	if _, ok, err := freeze.Unlock(ctx, s, pub, repo.FullName, "staging"); err != nil || ok {
		t.Fatalf("second unlock: %v %v; want nothing to unlock", ok, err)
	}
}

// TestSweepEndsExpiredFreezes: a sweep past a freeze's expiry ends it and
// publishes what it held; a freeze with time left, or without expiry,
// stays.
func TestSweepEndsExpiredFreezes(t *testing.T) {
	ctx := context.Background()
	s := mustStore(t)
	now := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	g := &freeze.Gate{Store: s, Now: func() time.Time { return now }}
	for env, d := range map[string]time.Duration{"staging": time.Hour, "qa": 0, "demo": 3 * time.Hour} {
		if _, err := freeze.Lock(ctx, s, freeze.Freeze{Repo: repo.FullName, Env: env, Reason: "window", Actor: "ada"}, d, now); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := g.Admit(ctx, auto("eeee"), nil); err != nil || v.State != gate.Held {
		t.Fatalf("%+v %v", v, err)
	}
	pub := &workflowstest.Recorder{}
	ended, err := freeze.Sweep(ctx, s, pub, now.Add(30*time.Minute))
	if err != nil || len(ended) != 0 || len(pub.Events()) != 0 {
		t.Fatalf("sweep before any expiry ended %v, published %v (%v)", ended, pub.Events(), err)
	}
	ended, err = freeze.Sweep(ctx, s, pub, now.Add(2*time.Hour))
	if err != nil || len(ended) != 1 || ended[0].Env != "staging" {
		t.Fatalf("sweep after an hour: ended %+v (%v), want staging", ended, err)
	}
	if sent := workflowstest.Of[*events.DeployRequested](pub); len(sent) != 1 || sent[0].Commit != "eeee" {
		t.Fatalf("sweep published %+v, want eeee", sent)
	}
	left, err := s.List(ctx)
	if err != nil || len(left) != 2 || left[0].Env != "demo" || left[1].Env != "qa" {
		t.Fatalf("freezes left %+v (%v), want demo and qa", left, err)
	}
}
