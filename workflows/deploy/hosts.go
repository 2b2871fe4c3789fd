package deploy

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
)

// claimHosts claims the hosts e's services declare before anything starts:
// a host the environment may not have fails the deploy for good, and the
// previous commit keeps serving. The returned function undoes the claims.
func (h *Handler) claimHosts(ctx context.Context, e *events.DeployRequested) (func(context.Context), error) {
	if h.Hosts == nil {
		return func(context.Context) {}, nil
	}
	return h.Hosts.Claim(ctx, e.Repo.FullName, e.Env, e.Images)
}

// pruneHosts releases the hosts the environment no longer declares once e
// serves. A failure is logged: the next deploy prunes again.
func (h *Handler) pruneHosts(ctx context.Context, e *events.DeployRequested) {
	if h.Hosts == nil {
		return
	}
	if err := h.Hosts.Prune(ctx, e.Repo.FullName, e.Env, e.Images); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("env", e.Env).Msg("releasing hosts no longer declared")
	}
}
