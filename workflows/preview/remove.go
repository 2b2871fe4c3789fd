package preview

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// Defaults of Config.
const (
	defaultRetain  = 24 * time.Hour
	defaultLockTTL = 30 * time.Second
)

// closeEvent removes the preview of a pull request that closed or merged.
func (h *Handler) closeEvent(ctx context.Context, e *events.PullRequestChanged, reason string) error {
	p, found, err := h.Store.Get(ctx, e.Repo.FullName, e.Number)
	if err != nil {
		return err
	}
	if !found {
		// Opened before Slipway watched, or a preview never made: remove
		// what its name would hold all the same.
		p = Preview{Env: h.previewName(ctx, e), Repo: e.Repo, Number: e.Number, Source: e.SourceRepo,
			HeadBranch: e.HeadBranch, HeadSHA: e.HeadSHA, Generation: 1, Open: true}
	}
	if !p.Open && p.Removed {
		return nil
	}
	return h.close(ctx, p, reason)
}

// previewName is the preview's name from the template at the head, or the
// default template's.
func (h *Handler) previewName(ctx context.Context, e *events.PullRequestChanged) string {
	if m, err := h.Planner.Manifest(ctx, e.Repo, e.HeadSHA); err == nil {
		if t, ok := template(m); ok {
			return t.PreviewName(e.Number)
		}
	}
	return manifest.Environment{Name: manifest.DefaultPreview}.PreviewName(e.Number)
}

// close marks the preview closed, then removes its containers and record of
// what it ran, and announces it.
func (h *Handler) close(ctx context.Context, p Preview, reason string) error {
	if p.Open {
		p.Open, p.ClosedAt, p.Reason = false, h.now(), reason
		if err := h.Store.Put(ctx, p); err != nil {
			return err
		}
	}
	if err := h.remove(ctx, p.Repo.FullName, p.Env); err != nil {
		return err
	}
	p.Removed = true
	if err := h.Store.Put(ctx, p); err != nil {
		return err
	}
	ev := &events.PreviewRemoved{Env: p.Env, Repo: p.Repo, Number: p.Number, HeadSHA: p.HeadSHA,
		Generation: p.Generation, Reason: p.Reason, RemovedAt: h.now().UTC()}
	if _, err := h.Publisher.Publish(ctx, ev); err != nil {
		return fmt.Errorf("announce removal of %s: %w", p.Env, err)
	}
	zerolog.Ctx(ctx).Info().Str("env", p.Env).Int("number", p.Number).Str("reason", p.Reason).Msg("preview removed")
	return nil
}

// remove removes every container of env of repo, under its deploy lock
// when there are locks, so a deploy running there finishes first; then
// forgets what it ran and releases the hosts it claimed.
func (h *Handler) remove(ctx context.Context, repo, env string) error {
	unlock, err := h.lock(ctx, repo, env)
	if err != nil {
		return err
	}
	defer unlock()
	if err := h.Target.Remove(ctx, repo, env); err != nil {
		return fmt.Errorf("remove %s: %w", env, err)
	}
	if h.Envs != nil {
		if err := h.Envs.Delete(ctx, repo, env); err != nil {
			return fmt.Errorf("forget %s: %w", env, err)
		}
	}
	if h.Hosts != nil {
		if err := h.Hosts.Prune(ctx, repo, env, nil); err != nil {
			return fmt.Errorf("release the hosts of %s: %w", env, err)
		}
	}
	return nil
}

// lock takes env's deploy lock, waiting up to its ttl for a running deploy.
func (h *Handler) lock(ctx context.Context, repo, env string) (func(), error) {
	if h.Locks == nil {
		return func() {}, nil
	}
	ttl := h.Config.LockTTL
	if ttl <= 0 {
		ttl = defaultLockTTL
	}
	lease, err := deploy.WaitLock(ctx, h.Locks, repo, env, ttl, ttl, 250*time.Millisecond, nil)
	if err != nil {
		return nil, err
	}
	return func() { _ = lease.Release(context.WithoutCancel(ctx)) }, nil
}

// Reconcile removes the previews of pull requests no longer open (a missed
// webhook) and of those not updated within their ttl, removes again what a
// deploy racing a close brought back, and forgets closed previews after
// Config.Retain. It goes through every preview; the errors are joined.
func (h *Handler) Reconcile(ctx context.Context) error {
	all, err := h.Store.List(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range all {
		if err := h.reconcile(ctx, p); err != nil {
			errs = append(errs, fmt.Errorf("preview %s: %w", p.Env, err))
		}
	}
	return errors.Join(errs...)
}

func (h *Handler) reconcile(ctx context.Context, p Preview) error {
	now := h.now()
	if !p.Open {
		retain := h.Config.Retain
		if retain <= 0 {
			retain = defaultRetain
		}
		if err := h.removeLeftovers(ctx, p); err != nil || now.Sub(p.ClosedAt) < retain {
			return err
		}
		return h.Store.Delete(ctx, p.Repo.FullName, p.Number)
	}
	if p.TTL > 0 && now.Sub(p.UpdatedAt) > p.TTL {
		return h.close(ctx, p, events.RemovedExpired)
	}
	if h.PullRequests == nil {
		return nil
	}
	open, err := h.PullRequests.IsOpen(ctx, p)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("env", p.Env).Msg("cannot tell whether the pull request is open")
		return nil
	}
	if open {
		return nil
	}
	return h.close(ctx, p, events.RemovedMissed)
}

// removeLeftovers removes a closed preview's containers again when any run.
func (h *Handler) removeLeftovers(ctx context.Context, p Preview) error {
	rel, err := h.Target.Current(ctx, p.Repo.FullName, p.Env)
	if err != nil || len(rel.Services) == 0 {
		return err
	}
	zerolog.Ctx(ctx).Warn().Str("env", p.Env).Msg("closed preview runs again (a deploy raced its close): removing it")
	return h.remove(ctx, p.Repo.FullName, p.Env)
}
