package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

// slowTarget deploys in d and records, per environment, the most deploys it
// ever saw at once and the order of commits it deployed.
type slowTarget struct {
	d    time.Duration
	fail error

	mu      sync.Mutex
	live    map[string]deploy.Release
	running map[string]int
	most    map[string]int
	applied map[string][]string
	total   int
	now     int // deploys running, every environment
	mostAll int
}

func newSlowTarget(d time.Duration) *slowTarget {
	return &slowTarget{d: d, live: map[string]deploy.Release{}, running: map[string]int{}, most: map[string]int{}, applied: map[string][]string{}}
}

func (t *slowTarget) Current(_ context.Context, repo, env string) (deploy.Release, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.live[events.EnvKey(repo, env)], nil
}

func (t *slowTarget) Deploy(ctx context.Context, d deploy.Deployment) error {
	t.mu.Lock()
	t.running[d.Env]++
	t.total++
	t.most[d.Env] = max(t.most[d.Env], t.running[d.Env])
	t.now++
	t.mostAll = max(t.mostAll, t.now)
	t.mu.Unlock()
	defer func() { t.mu.Lock(); t.running[d.Env]--; t.now--; t.mu.Unlock() }()
	select {
	case <-time.After(t.d):
	case <-ctx.Done():
		return ctx.Err()
	}
	if t.fail != nil {
		return t.fail
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	rel := deploy.Release{Env: d.Env}
	for _, img := range d.Images {
		rel.Services = append(rel.Services, deploy.ServiceState{Name: img.Service.Name, Commit: d.Commit, Digest: img.Digest, Running: true})
	}
	t.live[events.EnvKey(d.Repo, d.Env)] = rel
	t.applied[d.Env] = append(t.applied[d.Env], d.Commit)
	return nil
}

// results returns the subjects of the events of type typ r recorded.
func results(r *workflowstest.Recorder, typ string) []string {
	var out []string
	for _, e := range r.OfType(typ) {
		out = append(out, e.CESubject())
	}
	return out
}

type nopStore struct{}

func (nopStore) Record(context.Context, deploy.State) error { return nil }

// lockedHandler is one deployer process: its own claims holder and lock
// holder on the shared buckets of js.
func lockedHandler(t *testing.T, js jetstream.JetStream, name string, tg deploy.Target, lockTTL time.Duration) (*deploy.Handler, *workflowstest.Recorder) {
	t.Helper()
	ctx := context.Background()
	claims, err := js.KeyValue(ctx, natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	locks, err := js.KeyValue(ctx, natsjs.BucketLocks)
	if err != nil {
		t.Fatal(err)
	}
	rec := &workflowstest.Recorder{}
	return &deploy.Handler{
		Config:    deploy.Config{ClaimTTL: time.Minute, LockTTL: lockTTL},
		Target:    tg,
		Claims:    natsstore.NewClaims(claims, name),
		Publisher: rec,
		Store:     nopStore{},
		Locks:     natsstore.NewEnvLocks(locks, name),
	}, rec
}

func deployRequest(env string, n int) *events.DeployRequested {
	sha := fmt.Sprintf("%040x", n)
	return &events.DeployRequested{
		Env: env, Repo: repo, Commit: sha,
		Images: []events.Image{{Service: events.ServiceSpec{Name: "web"}, Ref: "r/web:" + sha, Digest: "sha256:" + sha}},
	}
}

// TestDeployLockOneAtATimePerEnvironment: two deployers given four requests
// for two environments at once deploy each environment one at a time, and
// the two environments in parallel.
func TestDeployLockOneAtATimePerEnvironment(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	tg := newSlowTarget(300 * time.Millisecond)
	a, _ := lockedHandler(t, js, "a", tg, 5*time.Second)
	b, _ := lockedHandler(t, js, "b", tg, 5*time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i, h := range []*deploy.Handler{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			env := []string{"staging", "staging", "qa", "qa"}[i]
			errs <- h.HandleDeploy(context.Background(), deployRequest(env, i+1))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if tg.total != 4 {
		t.Errorf("%d deploys, want 4", tg.total)
	}
	for _, env := range []string{"staging", "qa"} {
		if tg.most[env] != 1 {
			t.Errorf("%s: %d deploys at once, want 1", env, tg.most[env])
		}
	}
	if tg.mostAll != 2 {
		t.Errorf("%d deploys at once across environments, want 2 (one per environment)", tg.mostAll)
	}
}

// TestDeployLockReleasedOnEveryExitPath: after a deploy that succeeds, fails
// for good, fails for now, or is cancelled, the environment's lock is free.
func TestDeployLockReleasedOnEveryExitPath(t *testing.T) {
	tests := []struct {
		name   string
		fail   error
		cancel bool
	}{
		{name: "success"},
		{name: "permanent failure", fail: events.Permanent(errors.New("health check failed"))},
		{name: "retryable failure", fail: events.Retryable(errors.New("dockerd unreachable"), time.Second)},
		{name: "cancelled", cancel: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := natsjs.MustServer(t)
			_, js := natsjs.MustJetStream(t, s.ClientURL())
			tg := newSlowTarget(200 * time.Millisecond)
			tg.fail = tt.fail
			h, _ := lockedHandler(t, js, "a", tg, time.Minute)
			ctx, cancel := context.WithCancel(context.Background())
			if tt.cancel {
				time.AfterFunc(50*time.Millisecond, cancel)
			}
			_ = h.HandleDeploy(ctx, deployRequest("staging", i+1))
			cancel()
			kv, _ := js.KeyValue(context.Background(), natsjs.BucketLocks)
			lease, err := natsstore.NewEnvLocks(kv, "b").Lock(context.Background(), repo.FullName, "staging", time.Minute)
			if err != nil {
				t.Fatalf("lock after the deploy: %v", err)
			}
			_ = lease.Release(context.Background())
		})
	}
}

// TestDeployLockTakenOverFromDeadHolder: a deployer that died holding the lock
// (it never renews nor releases it) delays the next deploy of the environment
// by at most the lock's TTL.
func TestDeployLockTakenOverFromDeadHolder(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	kv, _ := js.KeyValue(context.Background(), natsjs.BucketLocks)
	if _, err := natsstore.NewEnvLocks(kv, "dead").Lock(context.Background(), repo.FullName, "staging", time.Second); err != nil {
		t.Fatal(err)
	}
	tg := newSlowTarget(0)
	h, rec := lockedHandler(t, js, "alive", tg, time.Second)
	start := time.Now()
	if err := h.HandleDeploy(context.Background(), deployRequest("staging", 1)); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 500*time.Millisecond || took > 3*time.Second {
		t.Errorf("deploy took %s, want about the lock's TTL of 1s", took)
	}
	if len(results(rec, events.TypeDeploySucceeded)) != 1 {
		t.Errorf("results: %v", rec.Events())
	}
}

// TestDeployLockPerRepository: two repositories' environments of one name
// are two environments: their deploys take locks of their own and run at
// once, and each repository's state is its own.
func TestDeployLockPerRepository(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	tg := newSlowTarget(500 * time.Millisecond)
	a, _ := lockedHandler(t, js, "a", tg, 5*time.Second)
	b, _ := lockedHandler(t, js, "b", tg, 5*time.Second)
	other := events.Repo{Forge: "github", FullName: "other/shop", CloneURL: "http://git.invalid/other/shop.git", DefaultBranch: "main"}
	reqA, reqB := deployRequest("staging", 1), deployRequest("staging", 2)
	reqB.Repo = other
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, run := range []struct {
		h   *deploy.Handler
		req *events.DeployRequested
	}{{a, reqA}, {b, reqB}} {
		wg.Go(func() { errs <- run.h.HandleDeploy(context.Background(), run.req) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if tg.mostAll != 2 {
		t.Errorf("%d deploys at once, want 2: the staging of %s and of %s are two environments", tg.mostAll, repo.FullName, other.FullName)
	}
	for _, r := range []*events.DeployRequested{reqA, reqB} {
		if got := tg.live[events.EnvKey(r.Repo.FullName, "staging")].Commit(); got != r.Commit {
			t.Errorf("staging of %s runs %q, want %s", r.Repo.FullName, got, r.Commit)
		}
	}
}
