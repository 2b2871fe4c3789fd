package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
)

// Queue reads the deploy requests of each environment in publication order.
type Queue interface {
	// Latest returns the last deploy request published for env of repo, or
	// nil.
	Latest(ctx context.Context, repo, env string) (*events.DeployRequested, error)
}

// Ancestry orders the commits of a repository by git history.
type Ancestry interface {
	// IsAncestor reports whether ancestor is descendant or one of its
	// ancestors.
	IsAncestor(ctx context.Context, repo events.Repo, ancestor, descendant string) (bool, error)
}

// overtaken returns why e must not be applied, or "" to apply it. Latest
// wins: a request published after e for the same environment overtakes it,
// unless that later request is automatic and for an older commit than e's
// (it will be skipped in turn). And an automatic request never moves an
// environment back: a commit the running one descends from is skipped (its
// build finished after a newer commit's). A deliberate request (release,
// rollback) may move it back.
func (h *Handler) overtaken(ctx context.Context, running string, e *events.DeployRequested) (string, error) {
	if reason, err := h.overtakenByLater(ctx, e); err != nil || reason != "" {
		return reason, err
	}
	if e.Deliberate() || running == "" || running == e.Commit {
		return "", nil
	}
	older, err := h.older(ctx, e.Repo, e.Commit, running)
	if err != nil || !older {
		return "", err
	}
	return "older than the running commit " + running, nil
}

// overtakenByLater returns why a request published after e for its
// environment overtakes it, or "".
func (h *Handler) overtakenByLater(ctx context.Context, e *events.DeployRequested) (string, error) {
	if h.Queue == nil {
		return "", nil
	}
	later, err := h.Queue.Latest(ctx, e.Repo.FullName, e.Env)
	if err != nil || later == nil || later.DedupKey() == e.DedupKey() {
		return "", err
	}
	older := false
	if !later.Deliberate() && strings.EqualFold(later.Repo.FullName, e.Repo.FullName) {
		if older, err = h.older(ctx, e.Repo, later.Commit, e.Commit); err != nil {
			return "", err
		}
	}
	if older {
		return "", nil
	}
	return "superseded by the later request " + later.DedupKey(), nil
}

// older reports whether commit a strictly precedes commit b in history. A
// commit the repository does not know (a permanent error) is unordered.
func (h *Handler) older(ctx context.Context, repo events.Repo, a, b string) (bool, error) {
	if h.Ancestry == nil || a == b {
		return false, nil
	}
	ok, err := h.Ancestry.IsAncestor(ctx, repo, a, b)
	if events.IsPermanent(err) {
		zerolog.Ctx(ctx).Warn().Err(err).Str("a", a).Str("b", b).Msg("commits cannot be ordered")
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("order %s and %s: %w", a, b, err)
	}
	return ok, nil
}

// supersede records that e was skipped, and why. A non-nil err (from
// overtaken) is returned instead.
func (h *Handler) supersede(ctx context.Context, e *events.DeployRequested, running, reason string, err error) (events.DeployOutcome, error) {
	if err != nil {
		return events.OutcomeUnknown, err
	}
	zerolog.Ctx(ctx).Info().Str("env", e.Env).Str("sha", e.Commit).Str("reason", reason).Msg("deploy superseded")
	res := e.Result(events.OutcomeSuperseded, running, h.now())
	res.Reason = reason
	return res.Outcome, h.publish(ctx, res.Event())
}

// supersedeIfOvertaken records, without the environment's lock, a request
// that a later one overtook while it waited for the lock: it claims the
// request, publishes deploy.superseded and completes the claim. It never
// deploys, so it needs no lock. It returns nil while e is not overtaken,
// and an error wrapping events.ErrAlreadyDone once e is recorded.
func (h *Handler) supersedeIfOvertaken(ctx context.Context, e *events.DeployRequested) error {
	reason, err := h.overtakenByLater(ctx, e)
	if err != nil || reason == "" {
		return err
	}
	lease, err := h.Claims.Claim(ctx, e.DedupKey(), h.Config.ClaimTTL)
	if err != nil {
		return err
	}
	cur, _ := h.Target.Current(ctx, e.Repo.FullName, e.Env) // for the record only
	outcome, err := h.supersede(ctx, e, cur.Commit(), reason, nil)
	if err != nil {
		return errors.Join(err, lease.Release(context.WithoutCancel(ctx)))
	}
	if err := complete(ctx, lease, e, outcome); err != nil {
		return err
	}
	return fmt.Errorf("deploy %s superseded while waiting: %w", e.DedupKey(), events.ErrAlreadyDone)
}
