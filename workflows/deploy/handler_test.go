package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/hosts"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

var repo = events.Repo{Forge: "github", FullName: "acme/shop", CloneURL: "http://git.invalid/acme/shop.git", DefaultBranch: "main"}

func commit(n byte) string {
	b := make([]byte, 40)
	for i := range b {
		b[i] = '0' + n
	}
	return string(b)
}

// target is an in-memory Docker: enough for the workflow's logic; the real
// one is tested in package docker and end to end.
type target struct {
	mu      sync.Mutex
	live    map[string]deploy.Release
	deploys int
	fail    error
	// secrets are those of the last deploy.
	secrets []deploy.Secret
}

func (t *target) Current(_ context.Context, repo, env string) (deploy.Release, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.live[events.EnvKey(repo, env)], nil
}

func (t *target) Deploy(_ context.Context, d deploy.Deployment) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.deploys++
	if t.fail != nil {
		return t.fail
	}
	rel := deploy.Release{Env: d.Env}
	t.secrets = d.Secrets
	for _, img := range d.Images {
		s := deploy.ServiceState{Name: img.Service.Name, Commit: d.Commit, Digest: img.Digest, Running: true,
			Secrets: deploy.SecretVersions(img.Service, d.Secrets)}
		for i := range max(img.Service.Replicas, 1) {
			s.Addrs = append(s.Addrs, fmt.Sprintf("127.0.0.1:%d", 10000+i))
		}
		s.Addr = s.Addrs[0]
		rel.Services = append(rel.Services, s)
	}
	t.live[events.EnvKey(d.Repo, d.Env)] = rel
	return nil
}

type store struct {
	mu     sync.Mutex
	states []deploy.State
}

func (s *store) Record(_ context.Context, st deploy.State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states = append(s.states, st)
	return nil
}

func newHandler(t *testing.T, tg *target) (*deploy.Handler, *workflowstest.Recorder, *store) {
	t.Helper()
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	kv, err := js.KeyValue(context.Background(), natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	p, st := &workflowstest.Recorder{}, &store{}
	return &deploy.Handler{
		Config:    deploy.Config{ClaimTTL: time.Minute},
		Target:    tg,
		Claims:    natsstore.NewClaims(kv, "test"),
		Publisher: p,
		Store:     st,
	}, p, st
}

func request(sha, nonce string) *events.DeployRequested {
	return &events.DeployRequested{
		Env: "staging", Repo: repo, Commit: sha, Nonce: nonce,
		Images: []events.Image{{Service: events.ServiceSpec{Name: "web"}, Ref: "r/web:" + sha, Digest: "sha256:" + sha}},
	}
}

func TestHandleDeploy(t *testing.T) {
	tests := []struct {
		name        string
		fail        error
		deliveries  int
		wantDeploys int
		wantOK      int
		wantFailed  int
		wantErr     func(error) bool
	}{
		{"deploys once however often delivered", nil, 3, 1, 1, 0, nil},
		{"health check failure is recorded once, not retried", events.Permanent(errors.New("web: no 2xx from /healthz")), 2, 1, 0, 1, events.IsPermanent},
		{"unreachable dockerd is retried", events.Retryable(errors.New("dockerd unreachable"), time.Second), 2, 2, 0, 0, func(err error) bool { return err != nil && !events.IsPermanent(err) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := &target{live: map[string]deploy.Release{}, fail: tt.fail}
			h, p, st := newHandler(t, tg)
			for i := 0; i < tt.deliveries; i++ {
				err := h.HandleDeploy(context.Background(), request(commit(1), ""))
				if i == 0 && tt.wantErr != nil && !tt.wantErr(err) {
					t.Fatalf("first delivery: error = %v", err)
				}
			}
			if tg.deploys != tt.wantDeploys {
				t.Errorf("%d deploys, want %d", tg.deploys, tt.wantDeploys)
			}
			if got := len(p.OfType(events.TypeDeploySucceeded)); got != tt.wantOK {
				t.Errorf("%d deploy-succeeded events, want %d", got, tt.wantOK)
			}
			if got := len(p.OfType(events.TypeDeployFailed)); got != tt.wantFailed {
				t.Errorf("%d deploy-failed events, want %d", got, tt.wantFailed)
			}
			if len(st.states) != tt.wantOK {
				t.Errorf("%d states recorded, want %d", len(st.states), tt.wantOK)
			}
		})
	}
}

// TestRedeployOfRunningCommitChangesNothing: a deliberate new request (a
// replay, a rollback to the current commit) of what already runs does not
// touch the target.
func TestRedeployOfRunningCommitChangesNothing(t *testing.T) {
	tg := &target{live: map[string]deploy.Release{}}
	h, p, _ := newHandler(t, tg)
	ctx := context.Background()
	if err := h.HandleDeploy(ctx, request(commit(1), "")); err != nil {
		t.Fatal(err)
	}
	if err := h.HandleDeploy(ctx, request(commit(1), "replay-1")); err != nil {
		t.Fatal(err)
	}
	if tg.deploys != 1 || len(p.OfType(events.TypeDeploySucceeded)) != 1 {
		t.Errorf("%d deploys and %d succeeded events, want 1 and 1", tg.deploys, len(p.OfType(events.TypeDeploySucceeded)))
	}
}

func TestRedeployWithOtherReplicaCountDeploys(t *testing.T) {
	tg := &target{live: map[string]deploy.Release{}}
	h, p, _ := newHandler(t, tg)
	ctx := context.Background()
	if err := h.HandleDeploy(ctx, request(commit(1), "")); err != nil {
		t.Fatal(err)
	}
	scaled := request(commit(1), "scale")
	scaled.Images[0].Service.Replicas = 2
	if err := h.HandleDeploy(ctx, scaled); err != nil {
		t.Fatal(err)
	}
	if tg.deploys != 2 || len(p.OfType(events.TypeDeploySucceeded)) != 2 {
		t.Errorf("%d deploys and %d succeeded events, want 2 and 2", tg.deploys, len(p.OfType(events.TypeDeploySucceeded)))
	}
}

// TestDeployRefusesAHostAnotherRepositoryHolds: a deploy declaring a host
// another repository's environment claimed first fails for good, names the
// host and its holder, starts nothing, and the holder keeps the host; a
// deploy that fails on the target gives back the hosts it claimed.
func TestDeployRefusesAHostAnotherRepositoryHolds(t *testing.T) {
	tg := &target{live: map[string]deploy.Release{}}
	h, p, st := newHandler(t, tg)
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	kv, err := js.KeyValue(context.Background(), natsjs.BucketHosts)
	if err != nil {
		t.Fatal(err)
	}
	grants := hosts.Grants{}
	for _, g := range []string{"acme/shop=shop.example.com,new.example.com", "other/shop=shop.example.com"} {
		if err := grants.Set(g); err != nil {
			t.Fatal(err)
		}
	}
	store := natsstore.NewHostStore(kv)
	h.Hosts = &hosts.Claimer{Store: store, Grants: grants, Domain: "localhost"}
	ctx := context.Background()
	withHost := func(r *events.DeployRequested, host string) *events.DeployRequested {
		r.Images[0].Service.Hosts = []string{host}
		return r
	}
	if err := h.HandleDeploy(ctx, withHost(request(commit(1), ""), "shop.example.com")); err != nil {
		t.Fatal(err)
	}
	theirs := withHost(request(commit(2), ""), "shop.example.com")
	theirs.Repo.FullName = "other/shop"
	err = h.HandleDeploy(ctx, theirs)
	if !events.IsPermanent(err) || !errors.Is(err, hosts.ErrRefused) {
		t.Fatalf("deploy of other/shop claiming shop.example.com: %v, want refused for good", err)
	}
	failed := p.OfType(events.TypeDeployFailed)
	if len(failed) != 1 || !strings.Contains(failed[0].(*events.DeployFailed).Reason, "shop.example.com is served by staging of acme/shop") {
		t.Errorf("failed deploys %+v, want one naming the host and its holder", failed)
	}
	if tg.deploys != 1 || len(st.states) != 1 {
		t.Errorf("%d deploys and %d records, want only acme/shop's", tg.deploys, len(st.states))
	}
	all, err := store.List(ctx)
	if err != nil || len(all) != 1 || all[0].Repo != "acme/shop" {
		t.Errorf("claims %+v, %v, want shop.example.com with acme/shop", all, err)
	}

	tg.fail = events.Permanent(errors.New("web: no 2xx from /healthz"))
	if err := h.HandleDeploy(ctx, withHost(request(commit(3), ""), "new.example.com")); !events.IsPermanent(err) {
		t.Fatalf("deploy failing its health check: %v", err)
	}
	if all, _ := store.List(ctx); len(all) != 1 || all[0].Host != "shop.example.com" {
		t.Errorf("claims after a failed deploy %+v, want new.example.com given back", all)
	}
}
