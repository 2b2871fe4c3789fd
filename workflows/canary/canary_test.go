package canary_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"

	"github.com/slipway-dev/slipway/docker/dockertest"
	slipevents "github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/canary"
)

// canaryRollout is the rollout of the tests: short pauses, few requests.
func canaryRollout(pause time.Duration) *slipevents.Rollout {
	return &slipevents.Rollout{Strategy: slipevents.StrategyCanary, Steps: []int{10, 50, 100}, Pause: pause,
		MaxErrorRate: 5, MinRequests: 10}
}

// TestCanaryOfFailingCommitRollsBack: a canary of a commit answering every
// other request with a 500 goes back by itself at its first step; every
// request the old commit answered succeeded, the errors stay within the
// step's share, and the old commit serves on with the containers it had.
func TestCanaryOfFailingCommitRollsBack(t *testing.T) {
	f := mustFixture(t)
	old, bad := dockertest.RandomCommit(), dockertest.RandomCommit()
	f.mustDeploy(t, old)
	before := f.containerIDs(t, f.env)
	load := startClient(f, 4)
	load.waitFor(t, "from the old commit", func(a answer) bool { return a.body == old })
	start := time.Now()
	err := f.target.Deploy(f.ctx, f.deployment(bad, true, canaryRollout(30*time.Second)))
	took := time.Since(start)
	a := mustRolledBack(t, err)
	answers := load.halt()

	if !a.Automatic || a.Step != 0 || a.Weight != 10 || !strings.Contains(a.Cause, "error rate") {
		t.Errorf("analysis = %+v, want an automatic rollback on the error rate at step 1 (10%%)", a)
	}
	if a.Canary.Errors == 0 || a.Stable.Requests == 0 || a.Stable.Errors != 0 {
		t.Errorf("figures = canary %+v, stable %+v: want canary errors and a stable without any", a.Canary, a.Stable)
	}
	var total, failed, fromOld, fromNew int
	for _, an := range answers {
		if an.at.Before(start) {
			continue
		}
		total++
		switch {
		case an.err == nil && an.status == 200 && an.body == old:
			fromOld++
		case an.err == nil && an.status == 200 && an.body == bad:
			fromNew++
		case an.err == nil && an.status == 500 && an.body == "fail":
			failed++ // the new commit's own 500
		default:
			t.Errorf("answer %d %q (%v): neither release's own answer", an.status, an.body, an.err)
		}
	}
	t.Logf("canary: rolled back after %s (detected at %s), client saw %d of %d requests fail, %d from the old commit, %d good from the new",
		took.Round(time.Millisecond), a.Detected.Round(time.Millisecond), failed, total, fromOld, fromNew)
	if fromOld == 0 || failed == 0 {
		t.Fatalf("answers: %d from the old commit, %d failed: the split never happened", fromOld, failed)
	}
	if limit := total/10 + 10; failed > limit {
		t.Errorf("%d of %d requests failed, more than the step's share (10%%) allows (%d)", failed, total, limit)
	}
	if after := f.containerIDs(t, f.env); !same(before, after) {
		t.Errorf("containers of the old commit: %v before, %v after", before, after)
	}
	if cur, err := f.t.Current(f.ctx, f.repo, f.env); err != nil || cur.Commit() != old {
		t.Errorf("environment runs %q (%v), want the old commit %s", cur.Commit(), err, old)
	}
	if left := f.containerIDs(t, canary.ShadowEnv(f.env)); len(left) != 0 {
		t.Errorf("the shadow still runs %v", left)
	}
	if _, ok, err := f.store.Split(f.ctx, f.repo, f.env); ok || err != nil {
		t.Errorf("split still there (%v)", err)
	}
}

// TestHealthyCanaryReachesFull: a canary of a healthy commit walks every
// step, then the environment itself runs it; no request failed.
func TestHealthyCanaryReachesFull(t *testing.T) {
	f := mustFixture(t)
	old, good := dockertest.RandomCommit(), dockertest.RandomCommit()
	f.mustDeploy(t, old)
	load := startClient(f, 4)
	load.waitFor(t, "from the old commit", func(a answer) bool { return a.body == old })
	since := time.Now()
	result := make(chan error, 1)
	go func() { result <- f.target.Deploy(f.ctx, f.deployment(good, false, canaryRollout(2*time.Second))) }()
	load.waitFor(t, "from the canary", func(a answer) bool { return a.body == good })
	canaryIDs := f.containerIDs(t, canary.ShadowEnv(f.env))
	if err := <-result; err != nil {
		t.Fatalf("canary of a healthy commit: %v", err)
	}
	load.waitFor(t, "from the new commit once the rollout ended", func(a answer) bool { return a.body == good })
	if serving := f.containerIDs(t, f.env); len(canaryIDs) != 1 || !same(serving, canaryIDs) {
		t.Errorf("the environment runs containers %v after the promotion, the canary ran %v: want the canary's", serving, canaryIDs)
	}
	if started := f.started(t, since); len(started) != 2 {
		t.Errorf("the rollout created and started %v: want the canary's container created and started once", started)
	}
	answers := load.halt()
	for _, an := range answers {
		if an.err != nil || an.status != 200 {
			t.Errorf("answer %d %q (%v) during a healthy canary", an.status, an.body, an.err)
		}
	}
	if cur, err := f.t.Current(f.ctx, f.repo, f.env); err != nil || cur.Commit() != good {
		t.Errorf("environment runs %q (%v), want %s", cur.Commit(), err, good)
	}
	if left := f.containerIDs(t, canary.ShadowEnv(f.env)); len(left) != 0 {
		t.Errorf("the shadow still runs %v", left)
	}
	st, err := f.store.Stats(f.ctx, f.repo, f.env)
	if err != nil || st.Canary.Requests == 0 || st.Stable.Requests == 0 {
		t.Errorf("proxy counts %+v (%v): want requests to both releases", st, err)
	}
}

// TestBlueGreenRollbackIsRouteChange: after a blue-green switch, an abort
// sends every request back to the old commit without starting a container.
func TestBlueGreenRollbackIsRouteChange(t *testing.T) {
	f := mustFixture(t)
	old, next := dockertest.RandomCommit(), dockertest.RandomCommit()
	f.mustDeploy(t, old)
	before := f.containerIDs(t, f.env)
	load := startClient(f, 2)
	rollout := &slipevents.Rollout{Strategy: slipevents.StrategyBlueGreen, Keep: time.Minute, MaxErrorRate: 5, MinRequests: 10}
	result := make(chan error, 1)
	go func() { result <- f.target.Deploy(f.ctx, f.deployment(next, false, rollout)) }()
	load.waitFor(t, "from the new commit after the switch", func(a answer) bool { return a.body == next })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	msgs, errs := f.cli.Events(ctx, events.ListOptions{Filters: filters.NewArgs(
		filters.Arg("type", "container"), filters.Arg("event", "start"), filters.Arg("event", "create"))})
	abortAt := time.Now()
	if err := f.store.Command(f.ctx, f.repo, f.env, canary.CommandAbort); err != nil {
		t.Fatal(err)
	}
	var err error
	var started []string
	for done := false; !done; {
		select {
		case err = <-result:
			done = true
		case m := <-msgs:
			// The daemon is shared: only this environment's containers count.
			if e := m.Actor.Attributes["slipway.env"]; e == f.env || e == canary.ShadowEnv(f.env) {
				started = append(started, string(m.Action)+" "+m.Actor.Attributes["name"])
			}
		case e := <-errs:
			t.Fatalf("docker events: %v", e)
		}
	}
	a := mustRolledBack(t, err)
	if a.Automatic || a.Weight != 100 {
		t.Errorf("analysis = %+v, want an operator's abort at 100%%", a)
	}
	load.waitFor(t, "from the old commit after the abort", func(a answer) bool { return a.body == old && a.at.After(abortAt) })
	answers := load.halt()
	if len(started) != 0 {
		t.Errorf("going back created or started containers: %v", started)
	}
	for _, an := range answers {
		if an.err != nil || an.status != 200 {
			t.Errorf("answer %d %q (%v) during a blue-green switch and back", an.status, an.body, an.err)
		}
	}
	if after := f.containerIDs(t, f.env); !same(before, after) {
		t.Errorf("containers of the old commit: %v before, %v after", before, after)
	}
}

// TestWatchRollsBackUnhealthyCommit: a commit whose health check starts
// failing once it serves every request is rolled back within its watch
// window.
func TestWatchRollsBackUnhealthyCommit(t *testing.T) {
	f := mustFixture(t)
	old, next := dockertest.RandomCommit(), dockertest.RandomCommit()
	f.mustDeploy(t, old)
	load := startClient(f, 2)
	rollout := &slipevents.Rollout{Watch: time.Minute, MaxErrorRate: 5, MinRequests: 10}
	result := make(chan error, 1)
	go func() { result <- f.target.Deploy(f.ctx, f.deployment(next, false, rollout)) }()
	load.waitFor(t, "from the new commit", func(a answer) bool { return a.body == next })
	if an := request(f.proxy.Client(), f.proxy.URL+"/cgi-bin/break", f.host()); an.body != "broken" {
		t.Fatalf("break the new commit's health: %d %q %v", an.status, an.body, an.err)
	}
	a := mustRolledBack(t, <-result)
	if !a.Automatic || !strings.Contains(a.Cause, "health check of app") {
		t.Errorf("analysis = %+v, want an automatic rollback on the health check", a)
	}
	load.waitFor(t, "from the old commit after the rollback", func(a answer) bool { return a.body == old })
	load.halt()
	if cur, err := f.t.Current(f.ctx, f.repo, f.env); err != nil || cur.Commit() != old {
		t.Errorf("environment runs %q (%v), want the old commit %s", cur.Commit(), err, old)
	}
}

// TestPromoteSkipsPause: slipway promote ends a canary's long pause at
// once and the commit is deployed.
func TestPromoteSkipsPause(t *testing.T) {
	f := mustFixture(t)
	old, next := dockertest.RandomCommit(), dockertest.RandomCommit()
	f.mustDeploy(t, old)
	load := startClient(f, 2)
	result := make(chan error, 1)
	go func() { result <- f.target.Deploy(f.ctx, f.deployment(next, false, canaryRollout(time.Hour))) }()
	load.waitFor(t, "from the canary", func(a answer) bool { return a.body == next })
	if err := f.store.Command(f.ctx, f.repo, f.env, canary.CommandPromote); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-result:
		if err != nil {
			t.Fatalf("promoted canary: %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the canary still pauses after slipway promote")
	}
	load.halt()
	if cur, err := f.t.Current(f.ctx, f.repo, f.env); err != nil || cur.Commit() != next {
		t.Errorf("environment runs %q (%v), want %s", cur.Commit(), err, next)
	}
}

// same reports whether a and b hold the same ids.
func same(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]bool{}
	for _, s := range a {
		seen[s] = true
	}
	for _, s := range b {
		if !seen[s] {
			return false
		}
	}
	return true
}

// TestPlainDeployDropsLeftoverRollout: a rollout whose deployer died left
// its split and shadow; the next plain deploy (a rollback) removes both, so
// no request goes to the abandoned commit any more.
func TestPlainDeployDropsLeftoverRollout(t *testing.T) {
	f := mustFixture(t)
	old, abandoned, next := dockertest.RandomCommit(), dockertest.RandomCommit(), dockertest.RandomCommit()
	f.mustDeploy(t, old)
	shadow := f.deployment(abandoned, false, nil)
	shadow.Env = canary.ShadowEnv(f.env)
	if err := f.t.Deploy(f.ctx, shadow); err != nil {
		t.Fatal(err)
	}
	if err := f.store.PutSplit(f.ctx, f.repo, f.env, canary.Split{Shadow: shadow.Env, Commit: abandoned, Weight: 50}); err != nil {
		t.Fatal(err)
	}
	load := startClient(f, 2)
	load.waitFor(t, "from the abandoned rollout", func(a answer) bool { return a.body == abandoned })
	f.mustDeploy(t, next)
	if _, ok, err := f.store.Split(f.ctx, f.repo, f.env); ok || err != nil {
		t.Errorf("split still there after a plain deploy (%v)", err)
	}
	if left := f.containerIDs(t, shadow.Env); len(left) != 0 {
		t.Errorf("the abandoned shadow still runs %v", left)
	}
	mark := time.Now()
	load.waitFor(t, "after the plain deploy", func(a answer) bool { return a.at.After(mark.Add(time.Second)) })
	for _, an := range load.halt() {
		if an.at.After(mark) && an.body != next {
			t.Errorf("answer %d %q after the plain deploy, want %s", an.status, an.body, next)
		}
	}
}
