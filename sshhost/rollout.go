package sshhost

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// rollbackTimeout bounds the rollback of the hosts a failed rollout
// changed, which runs even when the deploy's context is done.
const rollbackTimeout = 2 * time.Minute

// Deploy makes every host run d, Batch hosts at a time, each batch behind
// its hosts' health gate. When a batch fails (a health check, a host that
// cannot be reached), every host the rollout changed is put back on the
// release it ran before, the hosts not reached yet stay on theirs, and the
// error names each host that failed. A host already running d is not
// touched, so the next deploy converges the hosts a failed one left behind.
func (t *Target) Deploy(ctx context.Context, d deploy.Deployment) error {
	d = t.pullDeployment(d)
	log := zerolog.Ctx(ctx).With().Str("repo", d.Repo).Str("env", d.Env).Str("commit", d.Commit).Logger()
	ctx = log.WithContext(ctx)
	previous := make([]deploy.Deployment, len(t.hosts))
	done := make([]bool, len(t.hosts)) // the host runs d already
	errs := eachHost(ctx, t.hosts, func(ctx context.Context, h *host) error {
		i := t.index(h)
		prev, complete, err := h.docker.Running(ctx, d.Repo, d.Env)
		previous[i], done[i] = prev, complete && sameRelease(prev, d)
		return err
	})
	for i := range previous {
		previous[i].Repo, previous[i].Env = d.Repo, d.Env
	}
	if err := joinPolicy(errs); err != nil {
		return fmt.Errorf("read what the hosts run: %w", err)
	}
	var changed []*host
	for b, start := 0, 0; start < len(t.hosts); b, start = b+1, start+t.opts.Batch {
		batch := t.hosts[start:min(start+t.opts.Batch, len(t.hosts))]
		if t.beforeBatch != nil {
			t.beforeBatch(b)
		}
		var todo []*host
		for _, h := range batch {
			if !done[t.index(h)] {
				todo = append(todo, h)
			}
		}
		errs := eachHost(ctx, todo, func(ctx context.Context, h *host) error {
			if err := t.ensureProxy(ctx, h); err != nil {
				return err
			}
			return h.docker.Deploy(ctx, d)
		})
		for i, h := range todo {
			if errs[i] == nil {
				changed = append(changed, h)
			}
		}
		if err := joinPolicy(errs); err != nil {
			log.Warn().Err(err).Int("batch", b).Msg("rollout failed; rolling the changed hosts back")
			if rerr := t.rollback(ctx, changed, previous); rerr != nil {
				// Hosts are left on d: a retry rolls out again and, failing,
				// rolls back again.
				return events.Retryable(errors.New(errors.Join(err, rerr).Error()), retryAfter)
			}
			return err
		}
		log.Debug().Int("batch", b).Int("hosts", len(todo)).Msg("batch deployed")
	}
	log.Info().Int("hosts", len(t.hosts)).Msg("deploy succeeded on every host")
	return nil
}

// rollback puts each of hs back on the release it ran before the rollout,
// or removes the environment from it when it ran none.
func (t *Target) rollback(ctx context.Context, hs []*host, previous []deploy.Deployment) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	errs := eachHost(ctx, hs, func(ctx context.Context, h *host) error {
		prev := previous[t.index(h)]
		if prev.Commit == "" {
			return h.docker.Remove(ctx, prev.Repo, prev.Env)
		}
		return h.docker.Deploy(ctx, prev)
	})
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("roll back: %w", err)
	}
	return nil
}

// index returns h's position in the Target's hosts.
func (t *Target) index(h *host) int {
	for i, o := range t.hosts {
		if o == h {
			return i
		}
	}
	panic("sshhost: host of another target")
}

// sameRelease reports whether running, read from a host, is d: the same
// commit, and the same services at the same digests and replica counts.
func sameRelease(running, d deploy.Deployment) bool {
	if running.Commit != d.Commit || len(running.Images) != len(d.Images) {
		return false
	}
	want := map[string]string{}
	for _, img := range d.Images {
		want[img.Service.Name] = img.Digest + "/" + fmt.Sprint(max(img.Service.Replicas, 1))
	}
	for _, img := range running.Images {
		if want[img.Service.Name] != img.Digest+"/"+fmt.Sprint(max(img.Service.Replicas, 1)) {
			return false
		}
	}
	return true
}

// Remove removes env of repo from every host.
func (t *Target) Remove(ctx context.Context, repo, env string) error {
	return joinPolicy(eachHost(ctx, t.hosts, func(ctx context.Context, h *host) error {
		return h.docker.Remove(ctx, repo, env)
	}))
}

// ensureProxy makes h run the host proxy, when the Target has one.
func (t *Target) ensureProxy(ctx context.Context, h *host) error {
	if t.opts.ProxyImage == "" {
		return nil
	}
	ref := t.pullImage(events.Image{Ref: t.opts.ProxyImage}).Ref
	if err := h.docker.EnsureProxy(ctx, ref, h.conn.Address().Socket, t.opts.ProxyAddr); err != nil {
		return fmt.Errorf("host proxy: %w", err)
	}
	return nil
}
