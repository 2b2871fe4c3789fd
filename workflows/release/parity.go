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
	a, b := Side(sreq), Side(req)
	if err := h.withSecrets(ctx, &a, &b); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("env", staging).Msg("release plan: secrets compared by name only")
	}
	diffs := envdiff.Unexpected(envdiff.Compare(a, b), m.Differs())
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

// withSecrets adds to each side the versions of the secrets its services
// reference as set now: what the deploy it stands for would give them.
func (h *Handler) withSecrets(ctx context.Context, sides ...*envdiff.Side) error {
	if h.Secrets == nil {
		return nil
	}
	for _, s := range sides {
		names := s.SecretNames()
		if len(names) == 0 {
			continue
		}
		set, err := h.Secrets.Versions(ctx, s.Repo, s.Env)
		if err != nil {
			return err
		}
		s.Secrets = envdiff.Secrets(names, set, set)
	}
	return nil
}

// Side is the environment a deploy request would make, as envdiff
// compares it.
func Side(req *events.DeployRequested) envdiff.Side {
	return envdiff.Side{Env: req.Env, Repo: req.Repo.FullName, Commit: req.Commit, Target: req.Target, Images: req.Images}
}
