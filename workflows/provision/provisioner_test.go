package provision_test

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/provision"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

const slipwayYAML = `version: 1
services:
  - {name: api, context: api, port: 9090}
environments:
  staging: {branch: main}
  production: {pin: deploy/production.yaml}
  pv: {previews: true}
provision:
  - name: infra
    image: tofu
    dir: infra
    plan: [tofu, plan]
    apply: [tofu, apply]
`

// runner answers each run with codes[phase] and records the runs with the
// files they got.
type runner struct {
	mu    sync.Mutex
	runs  []string
	files []string
	code  map[events.ProvisionPhase]int
	err   error
}

func (r *runner) RunProvision(_ context.Context, run provision.Run) (string, int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append(r.runs, run.Env+"/"+run.Step.Name+"/"+string(run.Phase))
	var names []string
	tr := tar.NewReader(run.Files)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(tr)
		names = append(names, h.Name+"="+string(b))
	}
	r.files = append(r.files, strings.Join(names, ","))
	if r.err != nil {
		return "", -1, r.err
	}
	return "\x1b[1mline 1\x1b[0m\nPlan: 1 to add\n", r.code[run.Phase], nil
}

func (r *runner) Runner(string, string, string) (provision.Runner, error) { return r, nil }

// checkouts checks out the same tree, infra/main.tf and a link out of it,
// for every commit.
type checkouts struct{ dir string }

func (c checkouts) Checkout(context.Context, events.Repo, string) (string, func(), error) {
	return c.dir, func() {}, nil
}

type manifests struct{}

func (manifests) Manifest(context.Context, events.Repo, string) (*manifest.Manifest, error) {
	return manifest.Parse([]byte(slipwayYAML))
}

type target struct{ deploys []string }

func (t *target) Current(context.Context, string, string) (deploy.Release, error) {
	return deploy.Release{}, nil
}
func (t *target) Deploy(_ context.Context, d deploy.Deployment) error {
	t.deploys = append(t.deploys, d.Env)
	return nil
}

type publisher struct{ events []*events.ProvisionFinished }

func (p *publisher) Publish(_ context.Context, e events.Event) (bool, error) {
	p.events = append(p.events, e.(*events.ProvisionFinished))
	return false, nil
}

func mustProvisioner(t *testing.T) (*provision.Provisioner, *runner, *publisher) {
	t.Helper()
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	kv, err := js.KeyValue(context.Background(), natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "infra"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "infra", "main.tf"), []byte("resource"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../secret.txt", filepath.Join(dir, "infra", "link.tf")); err != nil {
		t.Fatal(err)
	}
	r, pub := &runner{code: map[events.ProvisionPhase]int{}}, &publisher{}
	p := &provision.Provisioner{Runners: r, Checkouts: checkouts{dir}, Manifests: manifests{}, Claims: natsstore.NewClaims(kv, "test"),
		Publisher: pub, ClaimTTL: time.Minute}
	return p, r, pub
}

func deployment(env string) deploy.Deployment {
	return deploy.Deployment{Env: env, Repo: "acme/shop", Commit: sha}
}

func TestApplyOncePerEnvironmentAndCommitBeforeTheDeploy(t *testing.T) {
	p, r, pub := mustProvisioner(t)
	inner := &target{}
	tt := &provision.Target{Target: inner, Provisioner: p}
	ctx := context.Background()

	// A failing apply stops the deploy before anything starts, names the
	// step and its last lines, and is not recorded as done.
	r.code[events.PhaseApply] = 1
	err := tt.Deploy(ctx, deployment("staging"))
	if !events.IsPermanent(err) || !strings.Contains(err.Error(), "provisioning step infra: apply exited with code 1") || !strings.Contains(err.Error(), "Plan: 1 to add") {
		t.Fatalf("Deploy() = %v, want a permanent failure naming the step with its last lines", err)
	}
	if len(inner.deploys) != 0 || len(pub.events) != 1 || pub.events[0].Succeeded() || pub.events[0].Phase != events.PhaseApply {
		t.Fatalf("deploys %v, events %+v", inner.deploys, pub.events)
	}
	if got := pub.events[0].Output; got != "line 1\nPlan: 1 to add\n" {
		t.Errorf("output %q, want it without ANSI escapes", got)
	}

	// Fixed: applied, then deployed; again for the same commit nothing is
	// applied; production applies for itself; a preview never.
	r.code[events.PhaseApply] = 0
	for _, env := range []string{"staging", "staging", "production", "pv-3"} {
		if err := tt.Deploy(ctx, deployment(env)); err != nil {
			t.Fatalf("Deploy(%s): %v", env, err)
		}
	}
	if got, want := strings.Join(r.runs, " "), "staging/infra/apply staging/infra/apply production/infra/apply"; got != want {
		t.Errorf("runs %q, want %q", got, want)
	}
	if got := strings.Join(inner.deploys, " "); got != "staging staging production pv-3" {
		t.Errorf("deploys %q", got)
	}
	// The runner got infra/ alone, without the link out of it.
	if got := r.files[0]; got != "main.tf=resource" {
		t.Errorf("files %q, want main.tf only", got)
	}

	// An unreachable daemon is retried, and the claim is free again.
	r.err = events.Retryable(errors.New("dockerd down"), time.Second)
	d := deployment("staging")
	d.Commit = strings.Repeat("b", 40)
	if err := tt.Deploy(ctx, d); err == nil || events.IsPermanent(err) {
		t.Fatalf("Deploy() with the daemon down = %v, want retryable", err)
	}
	r.err = nil
	if err := tt.Deploy(ctx, d); err != nil {
		t.Fatalf("retry: %v", err)
	}
}

func TestPlanRunsEveryTimeAndReportsFailures(t *testing.T) {
	p, r, pub := mustProvisioner(t)
	ctx := context.Background()
	repo := events.Repo{FullName: "acme/shop"}
	for range 2 {
		plans, err := p.Plan(ctx, repo, "production", "", sha, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(plans) != 1 || plans[0].Step != "infra" || plans[0].Output != "line 1\nPlan: 1 to add\n" || plans[0].ExitCode != 0 {
			t.Fatalf("plans %+v", plans)
		}
	}
	r.code[events.PhasePlan] = 1
	plans, err := p.Plan(ctx, repo, "production", "", sha, 7)
	if err != nil || len(plans) != 1 || plans[0].ExitCode != 1 {
		t.Fatalf("failed plan: %+v, %v; want a result with its exit code", plans, err)
	}
	if got := strings.Join(r.runs, " "); got != "production/infra/plan production/infra/plan production/infra/plan" {
		t.Errorf("runs %q", got)
	}
	if len(pub.events) != 3 || pub.events[0].Number != 7 || pub.events[0].Phase != events.PhasePlan {
		t.Errorf("events %+v", pub.events)
	}
	if plans, err := p.Plan(ctx, repo, "pv-3", "", sha, 7); err != nil || len(plans) != 0 {
		t.Errorf("plan of a preview: %+v, %v; want none", plans, err)
	}
}
