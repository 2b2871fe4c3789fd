package docker

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// withInit is addressed by every HostConfig.
var withInit = true

// candidate is a new container that waits for its health check.
type candidate struct {
	spec    events.ServiceSpec
	replica int
	id      string
	name    string
	// moved is set for a container of Deployment.From: a failed deploy
	// leaves it where it was.
	moved bool
	// revived is set for a retained container started again: it keeps the
	// restart policy it had live (keepRunning has nothing to do).
	revived bool
	addr    string // host:port, known once started
	// secrets are the secrets the container got, redacted from its output.
	secrets []deploy.Secret
}

// startAll starts one candidate for each replica of every image of d, but
// for the services whose live containers existing already run with d's
// values (unchanged: they are kept), and hands each started candidate to
// then (when not nil). A service the live containers of d.From (from) run
// with d's values is taken over (already running); one a retained
// container of each replica runs is revived (no pull); any other is pulled
// and its candidates created. Each service is prepared on a goroutine of
// its own and each candidate started, then handed to then, as soon as it
// is ready, so that the deploy costs its slowest service's pull, create,
// start and health check, not the sum of every service's: the daemon takes
// a few hundred milliseconds to set up each container's network and
// process, and a rollback to a retained release is mostly that. The first
// failure stops the rest. It returns the candidates created so far, in the
// order of d's images, even when it fails, so the caller can remove them.
func (t *Target) startAll(ctx context.Context, d deploy.Deployment, existing, from []container.Summary, then func(context.Context, *candidate) error) ([]*candidate, error) {
	g, gctx := errgroup.WithContext(ctx)
	prepared := make([][]*candidate, len(d.Images)) // each written by its service's goroutine only
	for i, img := range d.Images {
		if kept := unchanged(existing, d, img); kept != nil {
			zerolog.Ctx(ctx).Info().Str("service", img.Service.Name).Int("containers", len(kept)).Msg("service unchanged: containers kept")
			continue
		}
		g.Go(func() error {
			var err error
			prepared[i], err = t.prepare(gctx, d, img, existing, from)
			for _, c := range prepared[i] {
				if err != nil {
					break
				}
				g.Go(func() error {
					if err := t.start(gctx, c); err != nil || then == nil {
						return err
					}
					return then(gctx, c)
				})
			}
			return err
		})
	}
	err := g.Wait()
	if err != nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return slices.Concat(prepared...), err
}

// prepare returns the candidates of the replicas of img, not started: the
// live containers of d.From that run it with d's values (taken over), else
// its retained containers (revived), else new ones created from its
// pulled image. It returns those made so far even when it fails.
func (t *Target) prepare(ctx context.Context, d deploy.Deployment, img events.Image, existing, from []container.Summary) ([]*candidate, error) {
	var cands []*candidate
	if moved := unchanged(from, d, img); moved != nil {
		zerolog.Ctx(ctx).Info().Str("service", img.Service.Name).Str("from", d.From).Int("containers", len(moved)).Msg("service runs in the environment moved from: containers taken over")
		for _, c := range moved {
			cands = append(cands, takeOver(d, img, c))
		}
		return cands, nil
	}
	if retained := retainedFor(existing, d, img); retained != nil {
		for _, c := range retained {
			cands = append(cands, t.revive(ctx, img, deploy.ServiceSecrets(img.Service, d.Secrets), c))
		}
		return cands, nil
	}
	ref, err := t.pull(ctx, img.Ref, img.Digest)
	if err != nil {
		return cands, err
	}
	for i := range replicas(img.Service) {
		c, err := t.create(ctx, d, img, i, ref)
		if err != nil {
			return cands, err
		}
		cands = append(cands, c)
	}
	return cands, nil
}

// create creates the candidate container of replica i of img, pinned to ref.
func (t *Target) create(ctx context.Context, d deploy.Deployment, img events.Image, replica int, ref string) (*candidate, error) {
	s := img.Service
	port := nat.Port(strconv.Itoa(s.Port) + "/tcp")
	cfg := &container.Config{
		Image:        ref,
		Env:          append(environment(d, s), "SLIPWAY_REPLICA="+strconv.Itoa(replica)),
		Labels:       labels(d, img, replica),
		ExposedPorts: nat.PortSet{port: {}},
	}
	host := &container.HostConfig{
		// An empty host port lets the daemon pick a free one.
		PortBindings: nat.PortMap{port: {{HostIP: "127.0.0.1", HostPort: ""}}},
		// No restart policy until promotion: a crashing candidate must stay
		// exited so the deploy fails fast (and, on Engine 20.10, stopping or
		// reading the log of a restarting container stalls for seconds).
		// An init process as PID 1 forwards SIGTERM: a server that runs
		// as PID 1 itself ignores it and is killed only after StopTimeout.
		Init: &withInit,
	}
	t.opts.Limits.confine(cfg, host, s)
	name := CandidateName(d.Repo, d.Env, s.Name, replica, d.Commit)
	resp, err := t.cli.ContainerCreate(ctx, cfg, host, nil, nil, name)
	if err != nil {
		return nil, daemonError("create container "+name, err)
	}
	zerolog.Ctx(ctx).Debug().Str("container", name).Str("image", ref).Msg("candidate created")
	return &candidate{spec: s, replica: replica, id: resp.ID, name: name, secrets: deploy.ServiceSecrets(s, d.Secrets)}, nil
}

// Environment returns the variables every replica of service s in d gets
// (environment), for a target that starts them some other way (a Swarm
// service).
func Environment(d deploy.Deployment, s events.ServiceSpec) []string { return environment(d, s) }

// environment returns the variables of service s in d: its own, sorted,
// then its secrets', then Slipway's, which win. A replica also gets
// SLIPWAY_REPLICA, a task SLIPWAY_TASK.
func environment(d deploy.Deployment, s events.ServiceSpec) []string {
	keys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	env := make([]string, 0, len(keys)+4) // room for one more of Slipway's
	for _, k := range keys {
		env = append(env, k+"="+s.Env[k])
	}
	env = append(env, secretEnv(d, s)...)
	return append(env,
		"SLIPWAY_COMMIT="+d.Commit,
		"SLIPWAY_ENV="+d.Env,
		"SLIPWAY_SERVICE="+s.Name,
	)
}

// start starts c and records the address its port is published on.
func (t *Target) start(ctx context.Context, c *candidate) error {
	if err := t.cli.ContainerStart(ctx, c.id, container.StartOptions{}); err != nil {
		return daemonError("start container "+c.name, err)
	}
	info, err := t.cli.ContainerInspect(ctx, c.id)
	if err != nil {
		return daemonError("inspect container "+c.name, err)
	}
	if reason := exitReason(info); reason != "" {
		return t.unhealthy(ctx, c, reason, nil)
	}
	addr, err := publishedAddr(info)
	if err != nil {
		return fmt.Errorf("start container %s: %w", c.name, err)
	}
	c.addr = addr
	return nil
}

// clearLeftovers handles what a crashed deploy left in an environment: a
// running retired container whose replica has no live one is put back under
// the live name; every other container that is not live is removed. It
// reports whether it renamed or removed any.
func (t *Target) clearLeftovers(ctx context.Context, existing []container.Summary) (changed bool, err error) {
	live := map[string]bool{}
	for _, c := range existing {
		if liveOf(c) {
			live[strings.TrimPrefix(c.Names[0], "/")] = true
		}
	}
	for _, c := range existing {
		if len(c.Names) == 0 || liveOf(c) || retainedOf(c) {
			continue
		}
		repo, env, svc, i := c.Labels[LabelRepo], c.Labels[LabelEnv], c.Labels[LabelService], replicaOf(c.Labels)
		name := ReplicaName(repo, env, svc, i)
		if !live[name] && c.State == "running" && c.Names[0] == "/"+RetiredName(repo, env, svc, i, c.ID) {
			if err := t.rename(ctx, c.ID, name); err != nil {
				return changed, err
			}
			changed, live[name] = true, true
			zerolog.Ctx(ctx).Warn().Str("service", svc).Int("replica", i).Msg("restored a retired container left by a crashed deploy")
			continue
		}
		if err := t.forceRemove(ctx, c.ID); err != nil {
			return changed, err
		}
		changed = true
		zerolog.Ctx(ctx).Warn().Str("container", c.Names[0]).Msg("removed a container left by a crashed deploy")
	}
	return changed, nil
}

// rename gives container id a new name.
func (t *Target) rename(ctx context.Context, id, name string) error {
	if err := t.cli.ContainerRename(ctx, id, name); err != nil {
		return daemonError(fmt.Sprintf("rename container %s to %s", short(id), name), err)
	}
	return nil
}
