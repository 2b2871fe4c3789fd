package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/natsstore"
)

// tenant is one of two repositories pushing to one Slipway: the sample
// monorepo under another name.
type tenant struct {
	s     *sample.Sample
	label string // the host label of its default hosts
}

// tenantManifest is the sample's slipway.yaml with one environment, env,
// whose web service declares hosts (none when empty).
func tenantManifest(env string, hosts ...string) string {
	m := `version: 1
services:
  - name: web
    context: services/web
    port: 8080
    health: /healthz
  - name: api
    context: services/api
    port: 9090
    health: /healthz
environments:
  ` + env + `: {}
`
	if len(hosts) > 0 {
		m = strings.Replace(m, env+": {}", env+":\n    services:\n      web: {hosts: ["+strings.Join(hosts, ", ")+"]}", 1)
	}
	return m
}

// TestTwoRepositoriesShareASlipway: acme/shop and other/shop (the same
// last name, the same services web and api, the same environment) push to
// one Slipway. Each deploy leaves the other repository's containers
// (their ids), records and URLs alone; each answers with its own commit
// at its own host. other/shop declaring the host acme/shop serves is
// refused with an error naming both, and acme/shop keeps serving it.
func TestTwoRepositoriesShareASlipway(t *testing.T) {
	requireComponents(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	tag := hex.EncodeToString(b)
	name, host := "tn-"+tag, "www.tn-"+tag+".example.test"
	cfg := pipeline.DefaultConfig()
	cfg.DataDir, cfg.MirrorDir = t.TempDir(), t.TempDir()
	cfg.NATSPort, cfg.HTTPAddr, cfg.ProxyAddr = -1, "127.0.0.1:0", freeAddr(t)
	cfg.StagingEnv, cfg.HealthTimeout = name, 10*time.Second
	cfg.RepoSecrets = pipeline.RepoSecrets{"acme/shop": {[]byte("shop-secret")}, "other/shop": {[]byte("other-secret")}}
	for _, g := range []string{"acme/shop=*.tn-" + tag + ".example.test", "other/shop=*.tn-" + tag + ".example.test"} {
		if err := cfg.HostGrants.Set(g); err != nil {
			t.Fatal(err)
		}
	}
	if r := os.Getenv("SLIPWAY_REGISTRY"); r != "" {
		cfg.Registry = r
	}
	if b := os.Getenv("BUILDKIT_HOST"); b != "" {
		cfg.BuildkitHost = b
	}
	ctx = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel).WithContext(ctx)
	up := &pipeline.Up{Config: cfg}
	if err := up.Open(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- up.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil && runCtx.Err() == nil {
			t.Errorf("slipway up: %v", err)
		}
		up.Close()
		removeRepoEnv(t, "acme/shop", name)
		removeRepoEnv(t, "other/shop", name)
	})
	e := &env{up: up, env: name, window: cfg.Topology.DuplicateWindow}
	shop := newTenant(t, ctx, "acme/shop", "shop-secret", "shop", tenantManifest(name, host))
	other := newTenant(t, ctx, "other/shop", "other-secret", "shop-other", tenantManifest(name))

	c1 := e.push(t, ctx, shop.s, "shop: first", "").After
	shop.waitServing(t, ctx, e, c1)
	if got, err := waitServing(ctx, cfg.ProxyAddr, host, "web "+c1, time.Minute); err != nil {
		t.Fatalf("the shop's declared host %s answers %q: %v", host, got, err)
	}
	shopIDs := containerIDs(t, "acme/shop", e.env)

	d1 := e.push(t, ctx, other.s, "other: first", "").After
	other.waitServing(t, ctx, e, d1)
	e.waitIdle(t, ctx)
	if got := containerIDs(t, "acme/shop", e.env); !slices.Equal(got, shopIDs) {
		t.Errorf("the shop's containers %v became %v when other/shop deployed", shopIDs, got)
	}
	shop.requireServing(t, ctx, e, c1)
	requireRecorded(t, ctx, e, "acme/shop", c1)
	requireRecorded(t, ctx, e, "other/shop", d1)

	// other/shop claims the shop's host: refused, nothing changes.
	if err := other.s.WriteFile("slipway.yaml", tenantManifest(e.env, host)); err != nil {
		t.Fatal(err)
	}
	d2 := e.push(t, ctx, other.s, "other: take the shop's host", "").After
	e.waitEvent(t, ctx, events.EnvSubject(events.SubjectDeployFailed, "other/shop", e.env), d2)
	e.waitIdle(t, ctx)
	failed := deployResults(t, ctx, e, "other/shop")
	if n := len(failed); n == 0 || failed[n-1].Commit != d2 || !strings.Contains(failed[n-1].Reason, host) || !strings.Contains(failed[n-1].Reason, "acme/shop") {
		t.Errorf("other/shop's deploy of %s: %+v, want failed naming %s and its holder acme/shop", d2[:12], failed, host)
	}
	other.requireServing(t, ctx, e, d1)
	shop.requireServing(t, ctx, e, c1)
	if got, err := get(ctx, cfg.ProxyAddr, host); err != nil || got != "web "+c1 {
		t.Errorf("%s answers %q (%v) after other/shop's claim, want the shop's web %s", host, got, err, c1[:12])
	}
	if got := containerIDs(t, "acme/shop", e.env); !slices.Equal(got, shopIDs) {
		t.Errorf("the shop's containers %v became %v", shopIDs, got)
	}
	requireRecorded(t, ctx, e, "other/shop", d1)

	// The CLI names the repository, or asks for it.
	var out strings.Builder
	if err := status(ctx, up.Conn(), &up.Config, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`acme/shop\s+` + e.env + `\s+` + c1[:12], `other/shop\s+` + e.env + `\s+` + d1[:12], `web\.` + e.env + `\.shop-other\.localhost`} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("status does not show %s:\n%s", want, out.String())
		}
	}
	if _, err := chooseRepo(ctx, up.Conn(), ""); !errors.Is(err, errRepoAmbiguous) || !strings.Contains(err.Error(), "acme/shop, other/shop") {
		t.Errorf("chooseRepo without -repo: %v, want an error listing both repositories", err)
	}
	out.Reset()
	if err := history(ctx, up.Conn(), "acme/shop", e.env, 0, &out); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 2 || !strings.Contains(lines[1], c1[:12]) {
		t.Errorf("history of acme/shop %s: want its one deploy:\n%s", e.env, out.String())
	}
}

// newTenant creates the sample as name with manifest, at the label its
// default hosts will have.
func newTenant(t *testing.T, ctx context.Context, name, secret, label, manifest string) *tenant {
	t.Helper()
	s, err := sample.NewNamed(ctx, t.TempDir(), secret, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.WriteFile("slipway.yaml", manifest); err != nil {
		t.Fatal(err)
	}
	return &tenant{s: s, label: label}
}

// waitServing waits until both services of the tenant answer with sha at
// their default hosts.
func (tn *tenant) waitServing(t testing.TB, ctx context.Context, e *env, sha string) {
	t.Helper()
	for _, svc := range []string{"web", "api"} {
		host := svc + "." + e.env + "." + tn.label + ".localhost"
		if got, err := waitServing(ctx, e.up.Config.ProxyAddr, host, svc+" "+sha, 4*time.Minute); err != nil {
			t.Fatalf("%s never served %s (last %q): %v", host, sha[:12], got, err)
		}
	}
}

// requireServing checks once that both services answer with sha.
func (tn *tenant) requireServing(t testing.TB, ctx context.Context, e *env, sha string) {
	t.Helper()
	for _, svc := range []string{"web", "api"} {
		host := svc + "." + e.env + "." + tn.label + ".localhost"
		if got, err := get(ctx, e.up.Config.ProxyAddr, host); err != nil || got != svc+" "+sha {
			t.Errorf("%s answers %q (%v), want %q", host, got, err, svc+" "+sha)
		}
	}
}

// containerIDs returns the ids of the containers of env of repo, sorted.
func containerIDs(t testing.TB, repo, env string) []string {
	t.Helper()
	cli := dockertest.MustDocker(t)
	cs, err := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("label", docker.LabelRepo+"="+repo), filters.Arg("label", docker.LabelEnv+"="+env))})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	if len(ids) != 2 {
		t.Errorf("%s of %s has %d containers, want 2 (web and api)", env, repo, len(ids))
	}
	return ids
}

// requireRecorded checks the record of e's environment of repo.
func requireRecorded(t testing.TB, ctx context.Context, e *env, repo, sha string) {
	t.Helper()
	envs, err := e.up.Conn().Envs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, ok, err := envs.Get(ctx, repo, e.env)
	if err != nil || !ok || st.Commit != sha || st.Repo.FullName != repo {
		t.Errorf("record of %s of %s: %+v %v %v, want commit %s", e.env, repo, st, ok, err, sha[:12])
	}
}

// deployResults returns the failed deploys of e's environment of repo.
func deployResults(t testing.TB, ctx context.Context, e *env, repo string) []events.DeployResult {
	t.Helper()
	ds, err := natsstore.NewDeployLog(e.up.Conn().JS).Deploys(ctx, repo, e.env)
	if err != nil {
		t.Fatal(err)
	}
	var out []events.DeployResult
	for _, d := range ds {
		if d.Outcome == events.OutcomeFailed {
			out = append(out, d.DeployResult)
		}
	}
	return out
}
