package release

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
)

// buildBranch requests the builds of a commit pushed to a branch other than
// the default one when an environment follows that branch (the builder
// builds the default branch by itself); HandleBuilt then deploys it there.
func (h *Handler) buildBranch(ctx context.Context, e *events.PushReceived) error {
	m, envs, err := h.environments(ctx, e.Repo, e.After)
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
	for _, s := range m.Services() {
		req := &events.BuildRequested{Repo: e.Repo, Commit: e.After, Branch: e.Branch, Service: s}
		if _, err := h.Publisher.Publish(ctx, req); err != nil {
			return fmt.Errorf("request build of %s: %w", s.Name, err)
		}
	}
	zerolog.Ctx(ctx).Info().Str("branch", e.Branch).Str("env", followed).Str("sha", e.After).Msg("builds requested for a followed branch")
	return nil
}
