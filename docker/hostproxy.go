package docker

import (
	"context"
	"fmt"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/registry"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
)

// ProxyContainer is the name of the host proxy container (`slipway
// host-proxy`) a remote host runs; LabelHostProxy marks it. It carries no
// slipway.env label, so no environment's Remove touches it.
const (
	ProxyContainer = "slipway-host-proxy"
	LabelHostProxy = "slipway.host-proxy"
	// ProxyBinary is where the proxy image holds Slipway's binary.
	ProxyBinary = "/slipway"
)

// EnsureProxy makes the daemon run the host proxy from ref on the host's
// network, listening on addr, with the daemon's socket (socket, a path on
// the host) mounted: nothing happens when a proxy of ref runs already,
// otherwise ref is pulled and the container (re)created. It restarts unless
// stopped.
func (t *Target) EnsureProxy(ctx context.Context, ref, socket, addr string) error {
	info, err := t.cli.ContainerInspect(ctx, ProxyContainer)
	switch {
	case err == nil && info.Config != nil && info.Config.Image == ref && info.State != nil && info.State.Running:
		return nil
	case err == nil:
		if err := t.forceRemove(ctx, info.ID); err != nil {
			return err
		}
	case !isNotFound(err):
		return daemonError("inspect the host proxy", err)
	}
	host, err := registry.Host(ref)
	if err != nil {
		return events.Permanent(fmt.Errorf("host proxy image %q: %w", ref, err))
	}
	auth, sent, err := t.opts.Registry.Auth(host)
	if err != nil {
		return err
	}
	rc, err := t.cli.ImagePull(ctx, ref, image.PullOptions{RegistryAuth: auth})
	if err != nil {
		return pullError(host, sent, ref, err)
	}
	err = drainPull(rc)
	rc.Close()
	if err != nil {
		return pullError(host, sent, ref, err)
	}
	c, err := t.cli.ContainerCreate(ctx, &container.Config{
		Image:      ref,
		Entrypoint: []string{ProxyBinary},
		Cmd:        []string{"host-proxy", "-addr", addr},
		Labels:     map[string]string{LabelHostProxy: "1"},
	}, &container.HostConfig{
		NetworkMode:   "host",
		Binds:         []string{socket + ":/var/run/docker.sock"},
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
		Init:          &withInit,
	}, nil, nil, ProxyContainer)
	if err != nil {
		return daemonError("create the host proxy", err)
	}
	if err := t.cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		return daemonError("start the host proxy", err)
	}
	return nil
}
