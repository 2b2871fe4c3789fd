package release

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
)

// buildBranch has the Planner request the builds of a commit pushed to a
// branch other than the default one when an environment follows that
// branch (the builder plans the default branch by itself); HandleBuilt then
// deploys it there.
func (h *Handler) buildBranch(ctx context.Context, e *events.PushReceived) error {
	_, envs, err := h.environments(ctx, e.Repo, e.After)
	if events.IsPermanent(err) {
		return events.Ignored("push to %q: %v", e.Branch, err)
	}
	if err != nil {
		return err
	}
	followed := ""
	for _, env := range envs {
		if env.FollowsBranchOf(e.Branch, e.Repo.DefaultBranch) {
			followed = env.Name
			break
		}
	}
	if followed == "" {
		return events.Ignored("push to %q: no environment follows it", e.Branch)
	}
	zerolog.Ctx(ctx).Info().Str("branch", e.Branch).Str("env", followed).Str("sha", e.After).Msg("building a followed branch")
	return h.Planner.Plan(ctx, e.Repo, e.After, e.Branch)
}
