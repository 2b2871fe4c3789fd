package release

import (
	"context"
	"fmt"
	"strings"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/workflows/envdiff"
)

// checkParity adds a problem to p naming every difference between the
// release req and the same commit on the staging environment that
// slipway.yaml does not declare expected (`differs:`): staging is
// production but domains. A slipway.yaml without differs: is not checked.
func (h *Handler) checkParity(ctx context.Context, p *events.ReleasePlanned, req *events.DeployRequested, envs []manifest.Environment) {
	staging := StagingOf(envs, p.Repo.DefaultBranch)
	if staging == "" || staging == req.Env {
		return
	}
	m, err := h.Planner.Manifest(ctx, p.Repo, p.To)
	if err != nil || !m.DeclaresDiffers() {
		return
	}
	decl, ok := m.Environment(staging)
	if !ok {
		decl = manifest.Environment{Name: staging}
	}
	decl.Name = staging
	sreq, err := h.Request(ctx, p.Repo, decl, p.To)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("env", staging).Msg("release plan: staging not compared")
		return
	}
	diffs := envdiff.Unexpected(envdiff.Compare(Side(sreq), Side(req)), m.Differs())
	if len(diffs) == 0 {
		return
	}
	lines := make([]string, len(diffs))
	for i, d := range diffs {
		lines[i] = d.String()
	}
	p.Problems = append(p.Problems, fmt.Sprintf("%s and %s differ where slipway.yaml expects no difference (declare the key in differs: or align them): %s",
		staging, req.Env, strings.Join(lines, "; ")))
}

// Side is the environment a deploy request would make, as envdiff
// compares it.
func Side(req *events.DeployRequested) envdiff.Side {
	return envdiff.Side{Env: req.Env, Commit: req.Commit, Target: req.Target, Images: req.Images}
}
