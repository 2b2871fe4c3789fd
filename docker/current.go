package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"

	"github.com/slipway-dev/slipway/workflows/deploy"
)

// ErrNotLive is returned by Resolve when a service has no running live
// container.
var ErrNotLive = errors.New("no live container")

// Current returns the live services of env, sorted by name, as Docker reports
// them.
func (t *Target) Current(ctx context.Context, env string) (deploy.Release, error) {
	cs, err := t.list(ctx, env)
	if err != nil {
		return deploy.Release{}, err
	}
	rel := deploy.Release{Env: env}
	for _, c := range cs {
		if len(c.Names) == 0 || !isLive(c.Names[0], c.Labels) {
			continue
		}
		rel.Services = append(rel.Services, serviceState(c))
	}
	sort.Slice(rel.Services, func(i, j int) bool { return rel.Services[i].Name < rel.Services[j].Name })
	return rel, nil
}

// serviceState reads one live container back from its labels and ports.
func serviceState(c container.Summary) deploy.ServiceState {
	s := deploy.ServiceState{
		Name:    c.Labels[LabelService],
		Commit:  c.Labels[LabelCommit],
		Image:   c.Labels[LabelImage],
		Digest:  c.Labels[LabelDigest],
		Running: c.State == "running",
	}
	port, _ := strconv.Atoi(c.Labels[LabelPort])
	for _, p := range c.Ports {
		if int(p.PrivatePort) == port && p.PublicPort != 0 && p.Type == "tcp" {
			s.Addr = net.JoinHostPort(hostIP(p.IP), strconv.Itoa(int(p.PublicPort)))
			break
		}
	}
	return s
}

// Resolve returns the host:port of the live container of service in env. It
// wraps ErrNotLive when there is none or it is not running.
func (t *Target) Resolve(ctx context.Context, env, service string) (string, error) {
	name := LiveName(env, service)
	c, err := t.cli.ContainerInspect(ctx, name)
	if isNotFound(err) {
		return "", fmt.Errorf("resolve %s: %w", name, ErrNotLive)
	}
	if err != nil {
		return "", daemonError("resolve "+name, err)
	}
	if c.Config.Labels[LabelEnv] != env || c.Config.Labels[LabelService] != service {
		return "", fmt.Errorf("resolve %s: not labelled for %s/%s: %w", name, env, service, ErrNotLive)
	}
	if c.State == nil || !c.State.Running {
		return "", fmt.Errorf("resolve %s: not running: %w", name, ErrNotLive)
	}
	return publishedAddr(c)
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
