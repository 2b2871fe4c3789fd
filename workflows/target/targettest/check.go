package targettest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// mustDeploy deploys d and fails the test when it does not succeed.
func (s *suite) mustDeploy(t *testing.T, d deploy.Deployment) {
	t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 3*time.Minute)
	defer cancel()
	if err := s.tg.Deploy(ctx, d); err != nil {
		t.Fatalf("deploy %s of %s: %v", d.Commit[:12], d.Env, err)
	}
}

// deploy deploys d and returns its error.
func (s *suite) deploy(d deploy.Deployment) error {
	ctx, cancel := context.WithTimeout(s.ctx, 3*time.Minute)
	defer cancel()
	return s.tg.Deploy(ctx, d)
}

// mustCurrent returns what the suite's environment of repo runs.
func (s *suite) mustCurrent(t *testing.T, repo string) deploy.Release {
	t.Helper()
	rel, err := s.tg.Current(s.ctx, repo, s.env)
	if err != nil {
		t.Fatalf("Current(%s, %s): %v", repo, s.env, err)
	}
	return rel
}

// mustServe checks that every live replica of service, as ResolveAll
// reports them, answers / with commit through Dial, and returns their
// addresses.
func (s *suite) mustServe(t *testing.T, repo, service, commit string) []string {
	t.Helper()
	addrs, err := s.tg.ResolveAll(s.ctx, repo, s.env, service)
	if err != nil {
		t.Fatalf("ResolveAll(%s, %s, %s): %v", repo, s.env, service, err)
	}
	for _, addr := range addrs {
		got, err := s.get(addr, "/")
		if err != nil || got != commit {
			t.Fatalf("GET / at %s (%s of %s) = %q, %v; want commit %s", addr, service, s.env, got, err, commit)
		}
	}
	return addrs
}

// get sends GET path to addr through the Target's Dial and returns the
// trimmed body of a 2xx.
func (s *suite) get(addr, path string) (string, error) {
	client := &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			DisableKeepAlives: true, Proxy: nil,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return s.tg.Dial(ctx, network, addr)
			},
		},
	}
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("status %s", resp.Status)
	}
	return strings.TrimSpace(string(b)), nil
}

// mustRunRelease checks that Current reports exactly want (service to
// replica count), every service running commit, every replica up.
func (s *suite) mustRunRelease(t *testing.T, commit string, want map[string]int) deploy.Release {
	t.Helper()
	rel := s.mustCurrent(t, s.repo)
	if rel.Commit() != commit || len(rel.Services) != len(want) {
		t.Fatalf("Current() = %+v, want %v at %s", rel, want, commit)
	}
	for _, svc := range rel.Services {
		n, ok := want[svc.Name]
		switch {
		case !ok:
			t.Errorf("service %s runs; want only %v", svc.Name, want)
		case !svc.Running || svc.Replicas != n || svc.Up != n || len(svc.Addrs) != n || svc.Addr != svc.Addrs[0]:
			t.Errorf("service %s: running %v, replicas %d, up %d, addrs %v (addr %q); want %d running", svc.Name, svc.Running, svc.Replicas, svc.Up, svc.Addrs, svc.Addr, n)
		case len(svc.Instances) != n:
			t.Errorf("service %s: instances %+v, want %d", svc.Name, svc.Instances, n)
		}
		for i, in := range svc.Instances {
			if in.Node == "" || in.Replica != i || in.Commit != commit || !in.Running || in.Addr != svc.Addrs[i] {
				t.Errorf("service %s, instance %d = %+v; want replica %d on a named node at %s, running, at %s", svc.Name, i, in, i, svc.Addrs[i], commit)
			}
		}
	}
	return rel
}

// mustUnhealthy checks that err is a permanent failure of service's health
// gate whose reason holds want.
func mustUnhealthy(t *testing.T, err error, service, want string) *deploy.UnhealthyError {
	t.Helper()
	var u *deploy.UnhealthyError
	if !events.IsPermanent(err) || !errors.As(err, &u) {
		t.Fatalf("deploy error = %v, want a permanent *deploy.UnhealthyError", err)
	}
	if u.Service != service || u.Instance == "" || u.Node == "" {
		t.Errorf("unhealthy %+v: want service %s, an instance and a node", u, service)
	}
	if !strings.Contains(u.Reason+"\n"+u.Logs, want) || !strings.Contains(err.Error(), want) {
		t.Errorf("deploy error = %q, want it to hold %q", err, want)
	}
	return u
}

// leftovers counts what the target holds beside the live replicas.
func (s *suite) leftovers(t *testing.T) int {
	t.Helper()
	if s.cfg.Leftovers == nil {
		t.Fatal("targettest.Config.Leftovers is nil: the implementation must count what a deploy leaves behind")
	}
	return s.cfg.Leftovers(t, s.ctx, s.repo, s.env)
}
