package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
)

// Locks gives each environment of a repository to one deploy at a time, across every
// deployer process. A lock is a lease: renewed while its deploy runs,
// released when it ends, and taken over once it expires because its holder
// died.
type Locks interface {
	// Lock takes env of repo for ttl. While another live deploy holds it,
	// the error wraps workflows.ErrClaimHeld.
	Lock(ctx context.Context, repo, env string, ttl time.Duration) (workflows.Lease, error)
}

// LockObserver is told how long each deploy waited for its environment's
// lock once it took it (metrics.Metrics). Preview environments are told
// as "preview", so one name stands for all of them.
type LockObserver interface {
	LockWaited(env string, waited time.Duration)
}

func (c Config) lockTTL() time.Duration {
	if c.LockTTL > 0 {
		return c.LockTTL
	}
	return c.ClaimTTL
}

func (c Config) lockWait() time.Duration {
	if c.LockWait > 0 {
		return c.LockWait
	}
	return 2 * c.lockTTL()
}

// lockEnv waits until this deploy holds its environment's lock, and returns
// the context to deploy in (cancelled if the lock is lost) and the function
// that releases it, which the caller defers so that every exit path releases
// it. It waits at most Config.LockWait (in-progress acks keep
// the message meanwhile), enough to take over the lock of a holder that died;
// then the request is redelivered later. A request that already completed
// does not wait, nor does one a later request overtook while it waited: it
// is recorded as superseded at once (see supersedeIfOvertaken).
func (h *Handler) lockEnv(ctx context.Context, e *events.DeployRequested) (locked context.Context, unlock func(), err error) {
	if h.Locks == nil {
		return ctx, func() {}, nil
	}
	key := e.DedupKey()
	if _, err := h.Claims.Result(ctx, key); err == nil {
		return nil, nil, fmt.Errorf("deploy %s: %w", key, events.ErrAlreadyDone)
	}
	ttl, poll := h.Config.lockTTL(), min(max(h.Config.lockTTL()/20, 50*time.Millisecond), time.Second)
	var checked time.Time
	start := time.Now()
	lease, err := WaitLock(ctx, h.Locks, e.Repo.FullName, e.Env, ttl, h.Config.lockWait(), poll, func() error {
		if time.Since(checked) < time.Second {
			return nil
		}
		checked = time.Now()
		return h.supersedeIfOvertaken(ctx, e)
	})
	if err != nil {
		return nil, nil, err
	}
	if h.LockWaits != nil {
		env := e.Env
		if e.Kind == events.KindPreview {
			env = "preview"
		}
		h.LockWaits.LockWaited(env, time.Since(start))
	}
	locked, unlock = h.keepLock(ctx, e.Env, lease, ttl)
	return locked, unlock, nil
}

// WaitLock takes the lock of env of repo for ttl, trying again every poll
// while another holds it, for at most wait; then its error is
// events.Retryable after ttl/2, so the message is redelivered later. Between
// attempts it calls meanwhile (when not nil), whose error ends the wait.
func WaitLock(ctx context.Context, locks Locks, repo, env string, ttl, wait, poll time.Duration, meanwhile func() error) (workflows.Lease, error) {
	log := zerolog.Ctx(ctx)
	deadline := time.Now().Add(wait)
	for waited := false; ; waited = true {
		lease, err := locks.Lock(ctx, repo, env, ttl)
		if err == nil {
			if waited {
				log.Info().Str("env", env).Msg("environment lock taken")
			}
			return lease, nil
		}
		if !errors.Is(err, workflows.ErrClaimHeld) {
			return nil, fmt.Errorf("lock %s: %w", env, err)
		}
		if meanwhile != nil {
			if err := meanwhile(); err != nil {
				return nil, err
			}
		}
		if time.Now().After(deadline) {
			return nil, events.Retryable(fmt.Errorf("lock %s: %w", env, err), ttl/2)
		}
		if !waited {
			log.Info().Str("env", env).Err(err).Msg("waiting for the environment lock")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// keepLock renews lease until the returned function releases it, and returns
// the context the deploy runs in: it ends if the lock is lost.
func (h *Handler) keepLock(ctx context.Context, env string, lease workflows.Lease, ttl time.Duration) (context.Context, func()) {
	locked, stop := workflows.KeepLease(ctx, lease, ttl/3)
	return locked, func() {
		stop()
		if err := lease.Release(context.WithoutCancel(ctx)); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Str("env", env).Msg("releasing the environment lock failed; it expires")
		}
	}
}
