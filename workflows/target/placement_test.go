package target_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/proxy"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
	"github.com/slipway-dev/slipway/workflows/target/targettest"
)

// memTarget is a target that runs nothing: it records the deployments it
// was given and fails them with fail. It stands for a second target next to
// the real local daemon (a second daemon on the machine would have to share
// its network with the first one).
type memTarget struct {
	mu       sync.Mutex
	fail     error
	deployed []deploy.Deployment
}

func (m *memTarget) Current(context.Context, string, string) (deploy.Release, error) {
	return deploy.Release{}, nil
}

func (m *memTarget) Deploy(_ context.Context, d deploy.Deployment) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deployed = append(m.deployed, d)
	return m.fail
}
func (m *memTarget) Remove(context.Context, string, string) error { return nil }
func (m *memTarget) RunTask(context.Context, deploy.Deployment, events.Image, events.Task) (string, int, error) {
	return "", 0, nil
}

func (m *memTarget) ResolveAll(_ context.Context, repo, env, service string) ([]string, error) {
	return nil, target.ErrNotLive
}

func (m *memTarget) Dial(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("memTarget runs nothing")
}
func (m *memTarget) Close() error { return nil }

// mustPlacement returns the placement of file over the real local daemon
// and a memTarget called "other".
func mustPlacement(t *testing.T, file string) (*target.Placement, *docker.Target, *memTarget) {
	t.Helper()
	dockertest.MustDocker(t)
	local, err := docker.New(docker.Options{HealthTimeout: 3 * time.Second, DrainDelay: time.Millisecond, StopTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := target.Parse(strings.NewReader(file), "targets.conf")
	if err != nil {
		t.Fatal(err)
	}
	other := &memTarget{}
	p, err := target.NewPlacement(cfg, map[string]target.Target{events.LocalTarget: local, "other": other}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p, local, other
}

func TestPlacementLookup(t *testing.T) {
	p, local, other := mustPlacement(t, "target other docker unix:///other.sock\nallow other acme/shop production\nallow local acme/*\n")
	tests := []struct {
		name, repo, env, target string
		want                    target.Target
		wantErr                 string
	}{
		{"no name is local", "acme/shop", "staging", "", local, ""},
		{"local by name", "acme/shop", "staging", "local", local, ""},
		{"allowed", "acme/shop", "production", "other", other, ""},
		{"environment not allowed", "acme/shop", "staging", "other", nil, `target "other" may not run environment staging of acme/shop`},
		{"repository not allowed", "acme/blog", "production", "other", nil, `target "other" may not run environment production of acme/blog`},
		{"local restricted too", "evil/shop", "staging", "", nil, `target "local" may not run environment staging of evil/shop`},
		{"unknown", "acme/shop", "production", "prod-hosts", nil, `target "prod-hosts" is not configured on this deployer (targets: local, other)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Lookup(tt.repo, tt.env, tt.target)
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Errorf("Lookup = %v, %v; want %v", got, err, tt.want)
				}
				return
			}
			if !events.IsPermanent(err) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Lookup error = %v, want permanent %q", err, tt.wantErr)
			}
			if _, err := p.Target(tt.repo, tt.env, tt.target); !events.IsPermanent(err) {
				t.Errorf("Target error = %v, want permanent", err)
			}
		})
	}
}

// TestPlacementRoutesThroughTheTarget: the proxy in front of a placement
// reaches a replica of the local daemon at the address the target reports,
// dialled through the placement, and an environment moved to another
// target is removed from the daemon only once its deploy there succeeded.
func TestPlacementRoutesThroughTheTarget(t *testing.T) {
	p, local, other := mustPlacement(t, "target other docker unix:///other.sock\n")
	cli := dockertest.MustDocker(t)
	serve := dockertest.MustImage(t, cli, "serve", targettest.ServeCmd...)
	env, v1 := dockertest.RandomName("t"), dockertest.RandomCommit()
	t.Cleanup(func() { _ = local.Remove(context.Background(), "acme/shop", env) })
	ctx := context.Background()
	img := events.Image{Service: events.ServiceSpec{Name: "web", Port: targettest.Port, HealthPath: "/healthz"}, Ref: serve.Ref, Digest: serve.Digest}
	d := deploy.Deployment{Env: env, Repo: "acme/shop", Commit: v1, Images: []events.Image{img}}

	tg, err := p.Target("acme/shop", env, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.Deploy(ctx, d); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(proxy.New(p, "", proxy.WithHosts(proxy.StaticHosts{Labels: map[string]string{"shop": "acme/shop"}})))
	defer srv.Close()
	if got := mustGet(t, srv.URL, "web."+env+".shop.localhost"); got != v1 {
		t.Errorf("proxy answers %q, want %s", got, v1)
	}
	if name, rel, err := p.Locate(ctx, "acme/shop", env); err != nil || name != events.LocalTarget || rel.Commit() != v1 {
		t.Errorf("Locate = %s, %+v, %v; want local at %s", name, rel, err, v1)
	}

	// A failed deploy to the other target leaves the daemon serving.
	other.fail = events.Permanent(errors.New("health gate failed"))
	moved, err := p.Target("acme/shop", env, "other")
	if err != nil {
		t.Fatal(err)
	}
	if err := moved.Deploy(ctx, d); !events.IsPermanent(err) {
		t.Fatalf("failing deploy to other: %v", err)
	}
	if got := mustGet(t, srv.URL, "web."+env+".shop.localhost"); got != v1 {
		t.Errorf("after a failed move the proxy answers %q, want %s", got, v1)
	}
	// A successful one removes the environment from the daemon.
	other.fail = nil
	if err := moved.Deploy(ctx, d); err != nil {
		t.Fatal(err)
	}
	if len(other.deployed) != 2 || other.deployed[1].Target != "other" {
		t.Errorf("other was given %+v, want two deployments naming it", other.deployed)
	}
	if rel, err := local.Current(ctx, "acme/shop", env); err != nil || len(rel.Services) != 0 {
		t.Errorf("the daemon still runs %+v (%v) after the environment moved", rel, err)
	}
	if _, err := p.ResolveAll(ctx, "acme/shop", env, "web"); !errors.Is(err, target.ErrNotLive) {
		t.Errorf("ResolveAll after the move: %v, want ErrNotLive", err)
	}
}

// mustGet returns the body the proxy at url answers for host.
func mustGet(t *testing.T, url, host string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+"/", nil)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", host, resp.Status, b)
	}
	return strings.TrimSpace(string(b))
}
