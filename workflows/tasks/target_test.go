package tasks_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/tasks"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

// runner answers each task with its exit code from codes (0 by default)
// and records the runs.
type runner struct {
	mu    sync.Mutex
	runs  []string
	codes map[string]int
	err   error
}

func (r *runner) RunTask(_ context.Context, d deploy.Deployment, img events.Image, task events.Task) (string, int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append(r.runs, d.Env+"/"+img.Service.Name+"/"+task.Name)
	if r.err != nil {
		return "", -1, r.err
	}
	return "ran " + task.Name + "\n", r.codes[task.Name], nil
}

// target records deploys.
type target struct{ deploys []string }

func (t *target) Current(context.Context, string, string) (deploy.Release, error) {
	return deploy.Release{}, nil
}
func (t *target) Deploy(_ context.Context, d deploy.Deployment) error {
	t.deploys = append(t.deploys, d.Env+"@"+d.Commit[:4])
	return nil
}

type publisher struct{ events []*events.TaskFinished }

func (p *publisher) Publish(_ context.Context, e events.Event) (bool, error) {
	p.events = append(p.events, e.(*events.TaskFinished))
	return false, nil
}

func deployment(env string) deploy.Deployment {
	api := events.ServiceSpec{Name: "api", Tasks: []events.Task{{Name: "migrate", Command: []string{"migrate"}}, {Name: "seed", Command: []string{"seed"}}}}
	web := events.ServiceSpec{Name: "web"}
	return deploy.Deployment{Env: env, Repo: "acme/shop", Commit: sha, Images: []events.Image{
		{Service: web, Ref: "r/web:1", Digest: "sha256:w"}, {Service: api, Ref: "r/api:1", Digest: "sha256:a"},
	}}
}

func TestTasksRunOncePerEnvironmentAndCommit(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	kv, err := js.KeyValue(context.Background(), natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	r, inner, pub := &runner{codes: map[string]int{}}, &target{}, &publisher{}
	tt := &tasks.Target{Target: inner, Runner: r, Claims: natsstore.NewClaims(kv, "test"), Publisher: pub, ClaimTTL: time.Minute}
	ctx := context.Background()

	// A failing migration stops the deploy before anything starts, and
	// is not recorded as done.
	r.codes["migrate"] = 3
	err = tt.Deploy(ctx, deployment("stg"))
	if !events.IsPermanent(err) || !strings.Contains(err.Error(), "task migrate of api: exited with code 3") || !strings.Contains(err.Error(), "ran migrate") {
		t.Fatalf("Deploy() = %v, want a permanent failure with the output", err)
	}
	if len(inner.deploys) != 0 || len(pub.events) != 1 || pub.events[0].Succeeded() {
		t.Fatalf("deploys %v, events %+v", inner.deploys, pub.events)
	}

	// Fixed: both tasks run, then the deploy.
	r.codes["migrate"] = 0
	if err := tt.Deploy(ctx, deployment("stg")); err != nil {
		t.Fatal(err)
	}
	// Again for the same environment and commit: nothing runs; another
	// environment runs them for itself.
	if err := tt.Deploy(ctx, deployment("stg")); err != nil {
		t.Fatal(err)
	}
	if err := tt.Deploy(ctx, deployment("prod")); err != nil {
		t.Fatal(err)
	}
	want := "stg/api/migrate stg/api/migrate stg/api/seed prod/api/migrate prod/api/seed"
	if got := strings.Join(r.runs, " "); got != want {
		t.Errorf("runs %q, want %q", got, want)
	}
	if got := strings.Join(inner.deploys, " "); got != "stg@0123 stg@0123 prod@0123" {
		t.Errorf("deploys %q", got)
	}
	if n := len(pub.events); n != 5 || pub.events[1].Output != "ran migrate\n" || pub.events[1].Image != "r/api:1@sha256:a" {
		t.Errorf("%d task events, second %+v", n, pub.events[1])
	}

	// An unreachable daemon is retried, and the claim is free again.
	r.err = events.Retryable(errors.New("dockerd down"), time.Second)
	d := deployment("qa")
	if err := tt.Deploy(ctx, d); err == nil || events.IsPermanent(err) {
		t.Fatalf("Deploy() with the daemon down = %v, want retryable", err)
	}
	r.err = nil
	if err := tt.Deploy(ctx, d); err != nil {
		t.Fatalf("retry: %v", err)
	}
}

// TestTasksRunOncePerRepositoryAndAcrossTheUpgrade: two repositories' tasks
// in environments of one name are claimed apart, and a task an earlier
// version ran to success (its claim named no repository) is not run again.
func TestTasksRunOncePerRepositoryAndAcrossTheUpgrade(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	claims := natsstore.NewClaims(kv, "test")
	old, err := claims.Claim(ctx, events.LegacyTaskKey("stg", sha, "api", "migrate"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Complete(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	r, inner, pub := &runner{codes: map[string]int{}}, &target{}, &publisher{}
	tt := &tasks.Target{Target: inner, Runner: r, Claims: claims, Publisher: pub, ClaimTTL: time.Minute}
	if err := tt.Deploy(ctx, deployment("stg")); err != nil {
		t.Fatal(err)
	}
	other := deployment("prod")
	other.Repo = "acme/blog"
	if err := tt.Deploy(ctx, deployment("prod")); err != nil {
		t.Fatal(err)
	}
	if err := tt.Deploy(ctx, other); err != nil {
		t.Fatal(err)
	}
	want := "stg/api/seed prod/api/migrate prod/api/seed prod/api/migrate prod/api/seed"
	if got := strings.Join(r.runs, " "); got != want {
		t.Errorf("runs %q, want %q (migrate of stg done before the upgrade; prod once per repository)", got, want)
	}
}
