package sshhost

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"

	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
)

// Current returns what env of repo runs across the hosts: a service's
// Commit, Image and Digest when every host runs the same, Running only when
// it runs complete on every host, Replicas and Up counted over the hosts,
// and every replica of every host in Addrs and Instances (hosts in order,
// each host's replicas in order; Instance.Node is the host). A host that
// cannot be reached fails the call.
func (t *Target) Current(ctx context.Context, repo, env string) (deploy.Release, error) {
	rels := make([]deploy.Release, len(t.hosts))
	errs := eachHost(ctx, t.hosts, func(ctx context.Context, h *host) error {
		rel, err := h.docker.Current(ctx, repo, env)
		rels[t.index(h)] = h.public(rel)
		return err
	})
	if err := joinPolicy(errs); err != nil {
		return deploy.Release{}, err
	}
	return merge(repo, env, rels), nil
}

// merge folds the releases of every host into one.
func merge(repo, env string, rels []deploy.Release) deploy.Release {
	type acc struct {
		s     deploy.ServiceState
		hosts int
	}
	bySvc := map[string]*acc{}
	for _, rel := range rels {
		for _, s := range rel.Services {
			a, ok := bySvc[s.Name]
			if !ok {
				a = &acc{s: deploy.ServiceState{Name: s.Name, Commit: s.Commit, Image: s.Image, Digest: s.Digest, Running: true}}
				bySvc[s.Name] = a
			}
			a.hosts++
			if s.Commit != a.s.Commit || s.Digest != a.s.Digest {
				a.s.Commit, a.s.Image, a.s.Digest, a.s.Running = "", "", "", false
			}
			a.s.Running = a.s.Running && s.Running
			a.s.Replicas += s.Replicas
			a.s.Up += s.Up
			a.s.Addrs = append(a.s.Addrs, s.Addrs...)
			a.s.Instances = append(a.s.Instances, s.Instances...)
		}
	}
	out := deploy.Release{Repo: repo, Env: env}
	for _, a := range bySvc {
		if a.hosts != len(rels) {
			a.s.Running = false
		}
		if len(a.s.Addrs) > 0 {
			a.s.Addr = a.s.Addrs[0]
		}
		out.Services = append(out.Services, a.s)
	}
	sort.Slice(out.Services, func(i, j int) bool { return out.Services[i].Name < out.Services[j].Name })
	return out
}

// ResolveAll returns the address of every running live replica of service
// on every host that answers, hosts in order. It fails only when no host
// answers; it wraps target.ErrNotLive when none runs one.
func (t *Target) ResolveAll(ctx context.Context, repo, env, service string) ([]string, error) {
	all := make([][]string, len(t.hosts))
	errs := eachHost(ctx, t.hosts, func(ctx context.Context, h *host) error {
		addrs, err := h.docker.ResolveAll(ctx, repo, env, service)
		for _, a := range addrs {
			all[t.index(h)] = append(all[t.index(h)], h.publicAddr(a))
		}
		return err
	})
	var addrs []string
	failed := 0
	for i := range all {
		addrs = append(addrs, all[i]...)
		if errs[i] != nil && !errors.Is(errs[i], target.ErrNotLive) {
			failed++
		}
	}
	switch {
	case len(addrs) > 0:
		return addrs, nil
	case failed == len(t.hosts):
		return nil, joinPolicy(errs)
	}
	return nil, fmt.Errorf("resolve %s of %s on %d hosts: %w", service, env, len(t.hosts), target.ErrNotLive)
}

// Dial connects to an address the Target reported: "<host>:<port>" is the
// port a container publishes on that host's loopback, reached through the
// host's SSH connection.
func (t *Target) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	name, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	for _, h := range t.hosts {
		if h.node == name {
			return h.conn.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		}
	}
	return nil, fmt.Errorf("dial %s: no host %s in this target", addr, name)
}

// public returns rel, read from h's daemon, with addresses as Dial reaches
// them.
func (h *host) public(rel deploy.Release) deploy.Release {
	for i := range rel.Services {
		s := &rel.Services[i]
		s.Addr = h.publicAddr(s.Addr)
		for j := range s.Addrs {
			s.Addrs[j] = h.publicAddr(s.Addrs[j])
		}
		for j := range s.Instances {
			s.Instances[j].Addr = h.publicAddr(s.Instances[j].Addr)
		}
	}
	return rel
}

// publicAddr turns an address a container publishes on h's loopback into
// "<host>:<port>", the form Dial reads; "" stays "".
func (h *host) publicAddr(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if addr == "" || err != nil {
		return addr
	}
	return net.JoinHostPort(h.node, port)
}
