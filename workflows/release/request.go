package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/workflows"
	"github.com/slipway-dev/slipway/workflows/build"
)

// requestTTL is how long the claim on a release request is leased: what
// deciding it takes at most (reading a slipway.yaml may fetch).
const requestTTL = 2 * time.Minute

// Decision is what the release workflow decided of a ReleaseRequested,
// kept as the result of its claim (keyed on the request's id): the id of
// the deploy it requested, or why it refused.
type Decision struct {
	Deploy  string `json:"deploy,omitempty"`
	Refused string `json:"refused,omitempty"`
}

// ParseDecision reads a Decision from the result of a request's claim.
func ParseDecision(b []byte) (Decision, error) {
	var d Decision
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("decode release decision: %w", err)
	}
	return d, nil
}

// HandleRequested answers an operator's release request as the merge of a
// release pull request pinning e.Commit is answered, once the commit
// passes the gates of Releasable: it requests the deploy (kind release,
// e's actor, e's id as trigger), or refuses with the reason (a permanent
// error is a refusal too: no retry would release the commit). Either way
// the decision completes the claim on e's id, so a redelivered request
// decides nothing again; the deploy's id is derived from e's nonce, so a
// redelivery before the claim completed requests the same deploy.
func (h *Handler) HandleRequested(ctx context.Context, e *events.ReleaseRequested) error {
	if err := events.CheckCommit(e.Repo, e.Commit); err != nil || e.Env == "" {
		return events.Permanent(fmt.Errorf("release request %s: %w", e.DedupKey(), errors.Join(err, errNoEnv(e.Env))))
	}
	lease, err := h.Claims.Claim(ctx, e.DedupKey(), requestTTL)
	switch {
	case errors.Is(err, events.ErrAlreadyDone):
		return nil
	case errors.Is(err, workflows.ErrClaimHeld):
		return events.Retryable(err, 5*time.Second)
	case err != nil:
		return fmt.Errorf("claim release request %s: %w", e.DedupKey(), err)
	}
	d, err := h.decide(ctx, e)
	if err != nil {
		return errors.Join(err, lease.Release(context.WithoutCancel(ctx)))
	}
	b, err := json.Marshal(d)
	if err != nil {
		return errors.Join(err, lease.Release(context.WithoutCancel(ctx)))
	}
	if err := lease.Complete(ctx, b); err != nil {
		return fmt.Errorf("record release decision %s: %w", e.DedupKey(), err)
	}
	return nil
}

// errNoEnv is the error of a request naming no environment, nil otherwise.
func errNoEnv(env string) error {
	if env == "" {
		return errors.New("no environment")
	}
	return nil
}

// decide publishes the deploy request of e, or returns its refusal.
func (h *Handler) decide(ctx context.Context, e *events.ReleaseRequested) (Decision, error) {
	log := zerolog.Ctx(ctx).With().Str("repo", e.Repo.FullName).Str("env", e.Env).Str("sha", e.Commit).
		Str("actor", e.Actor).Str("request", e.DedupKey()).Logger()
	req, err := h.Releasable(ctx, e.Repo, e.Env, e.Commit)
	if errors.Is(err, ErrNotReleasable) || events.IsPermanent(err) { // no retry releases it
		log.Warn().Err(err).Msg("release refused")
		return Decision{Refused: err.Error()}, nil
	}
	if err != nil {
		return Decision{}, err
	}
	req.Ask(events.KindRelease, e.DedupKey(), e.Actor, e.Nonce)
	if _, err := h.Publisher.Publish(ctx, req); err != nil {
		return Decision{}, fmt.Errorf("request release of %s to %s: %w", short(e.Commit), e.Env, err)
	}
	log.Info().Str("deploy", req.DedupKey()).Str("reason", e.Reason).Msg("release requested")
	return Decision{Deploy: req.DedupKey()}, nil
}

// Releasable returns the deploy request of sha to the environment named
// env when sha may be released there, with its kind, trigger and actor
// left to the caller (DeployRequested.Ask). These are the gates `slipway
// release` applies before it writes a pin file: env follows a pin file in
// sha's slipway.yaml, no check of sha failed or is still running, every
// service of sha was built, and sha ran healthy on the staging environment
// (when History is set). Otherwise the error wraps ErrNotReleasable and
// says which is missing. As for a merged pin, a freeze of env does not
// hold a release: a freeze holds automatic deploys only.
func (h *Handler) Releasable(ctx context.Context, repo events.Repo, env, sha string) (*events.DeployRequested, error) {
	m, envs, err := h.environments(ctx, repo, sha)
	if events.IsPermanent(err) {
		return nil, fmt.Errorf("%s: %w: %w", short(sha), err, ErrNotReleasable)
	}
	if err != nil {
		return nil, err
	}
	target, ok := pinFollower(envs, env)
	if !ok {
		return nil, fmt.Errorf("slipway.yaml at %s declares no environment %q following a pin file: %w", short(sha), env, ErrNotReleasable)
	}
	if err := CheckChecks(ctx, h.Claims, repo.FullName, sha, m.Checks()); err != nil {
		return nil, err
	}
	req, err := h.Request(ctx, repo, target, sha)
	if errors.Is(err, build.ErrNotBuilt) {
		return nil, fmt.Errorf("%s was never built (%w): %w", short(sha), err, ErrNotReleasable)
	}
	if err != nil {
		return nil, err
	}
	if h.History != nil {
		staging := StagingOf(envs, repo.DefaultBranch)
		if err := StagingHealthy(ctx, h.History, repo.FullName, staging, sha); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// pinFollower returns the environment called name when it follows a pin
// file.
func pinFollower(envs []manifest.Environment, name string) (manifest.Environment, bool) {
	for _, e := range envs {
		if e.Name == name && e.Follows == manifest.FollowsPin {
			return e, true
		}
	}
	return manifest.Environment{}, false
}

// Err returns nil for a deploy requested, and for a refusal an error
// saying why that wraps ErrNotReleasable.
func (d Decision) Err() error {
	if d.Refused == "" {
		return nil
	}
	return refusal(d.Refused)
}

// refusal is a refused release: its reason, wrapping ErrNotReleasable.
type refusal string

func (r refusal) Error() string { return string(r) }
func (r refusal) Unwrap() error { return ErrNotReleasable }
