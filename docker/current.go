package docker

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/go-connections/nat"

	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
)

// ErrNotLive is returned by Resolve when a service has no running live
// container: target.ErrNotLive, as every target says it.
var ErrNotLive = target.ErrNotLive

// Current returns the live services of env of repo, sorted by name, as
// Docker reports them. A service is Running only when every replica its
// release declares is live, running and at the same commit and digest.
func (t *Target) Current(ctx context.Context, repo, env string) (deploy.Release, error) {
	cs, err := t.listRecorded(ctx, repo, env)
	if err != nil {
		return deploy.Release{}, err
	}
	rel := deploy.Release{Repo: repo, Env: env}
	for _, group := range liveReplicas(cs) {
		rel.Services = append(rel.Services, t.withInstances(serviceState(group), group))
	}
	sort.Slice(rel.Services, func(i, j int) bool { return rel.Services[i].Name < rel.Services[j].Name })
	return rel, nil
}

// liveReplicas returns the live containers of cs by service, each list
// sorted by replica.
func liveReplicas(cs []container.Summary) map[string][]container.Summary {
	bySvc := map[string][]container.Summary{}
	for _, c := range cs {
		if liveOf(c) {
			bySvc[c.Labels[LabelService]] = append(bySvc[c.Labels[LabelService]], c)
		}
	}
	for _, group := range bySvc {
		sort.Slice(group, func(i, j int) bool { return replicaOf(group[i].Labels) < replicaOf(group[j].Labels) })
	}
	return bySvc
}

// serviceState reads the live replicas of one service back from their labels
// and ports. The first replica gives the service its commit and Addr.
func serviceState(group []container.Summary) deploy.ServiceState {
	first := group[0].Labels
	s := deploy.ServiceState{
		Name:   first[LabelService],
		Commit: first[LabelCommit],
		Image:  first[LabelImage],
		Digest: first[LabelDigest],
		// Secrets are replica 0's: every replica of a deploy gets the same.
		Secrets: parseSecretsLabel(first[LabelSecrets]),
	}
	want, err := strconv.Atoi(first[LabelReplicas])
	if err != nil || want < 1 {
		want = 1
	}
	s.Running, s.Replicas = len(group) == want, want
	for i, c := range group {
		l := c.Labels
		same := l[LabelCommit] == s.Commit && l[LabelDigest] == s.Digest
		if c.State != "running" || replicaOf(l) != i || !same {
			s.Running = false
		}
		if c.State == "running" && same {
			s.Up++
		}
		s.Addrs = append(s.Addrs, summaryAddr(c))
	}
	s.Addr = s.Addrs[0]
	return s
}

// withInstances adds to s the live replicas of group one by one, all on
// this Target's node.
func (t *Target) withInstances(s deploy.ServiceState, group []container.Summary) deploy.ServiceState {
	for _, c := range group {
		l := c.Labels
		s.Instances = append(s.Instances, deploy.Instance{
			Node: t.opts.Node, ID: c.ID, Replica: replicaOf(l), Addr: summaryAddr(c),
			Commit: l[LabelCommit], Digest: l[LabelDigest], Running: c.State == "running",
		})
	}
	return s
}

// summaryAddr returns where the host reaches the service port of c, or ""
// when it publishes none.
func summaryAddr(c container.Summary) string {
	port, _ := strconv.Atoi(c.Labels[LabelPort])
	for _, p := range c.Ports {
		if int(p.PrivatePort) == port && p.PublicPort != 0 && p.Type == "tcp" {
			return net.JoinHostPort(hostIP(p.IP), strconv.Itoa(int(p.PublicPort)))
		}
	}
	return ""
}

// ResolveAll returns the host:port of every running live replica of service
// in env of repo, in replica order, for the proxy to spread requests over.
// It wraps ErrNotLive when none runs.
func (t *Target) ResolveAll(ctx context.Context, repo, env, service string) ([]string, error) {
	cs, err := t.members(ctx, repo, env, false, filters.Arg("label", LabelService+"="+service), filters.Arg("status", "running"))
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", LiveName(repo, env, service), err)
	}
	var addrs []string
	for _, c := range liveReplicas(cs)[service] {
		if addr := summaryAddr(c); addr != "" {
			addrs = append(addrs, addr)
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("resolve %s: %w", LiveName(repo, env, service), ErrNotLive)
	}
	return addrs, nil
}

// publishedAddr returns where the host reaches the service port of c.
func publishedAddr(c container.InspectResponse) (string, error) {
	port := nat.Port(c.Config.Labels[LabelPort] + "/tcp")
	if c.NetworkSettings != nil {
		for _, b := range c.NetworkSettings.Ports[port] {
			if b.HostPort != "" && b.HostPort != "0" {
				return net.JoinHostPort(hostIP(b.HostIP), b.HostPort), nil
			}
		}
	}
	return "", fmt.Errorf("container %s publishes no host port for %s: %w", short(c.ID), port, ErrNotLive)
}

// hostIP returns the address to dial for a binding on ip.
func hostIP(ip string) string {
	if ip == "" || ip == "0.0.0.0" || ip == "::" {
		return "127.0.0.1"
	}
	return ip
}

// isNotFound reports whether the daemon answered that an object is missing.
func isNotFound(err error) bool {
	return err != nil && cerrdefs.IsNotFound(err)
}
