package release

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/workflows/gate"
)

// admit asks the Gate whether the automatic deploy req of a commit whose
// slipway.yaml is m goes ahead. A blocked or held request is recorded
// (DeployGated, shown by `slipway history`); a pending one is left to be
// asked again when the gate decides (checks.Redrive). open is true when req
// is to be published.
func (h *Handler) admit(ctx context.Context, req *events.DeployRequested, m *manifest.Manifest) (open bool, err error) {
	if h.Gate == nil || m == nil {
		return true, nil
	}
	v, err := h.Gate.Admit(ctx, req, m)
	if err != nil {
		return false, fmt.Errorf("gate deploy to %s: %w", req.Env, err)
	}
	log := zerolog.Ctx(ctx).Info().Str("repo", req.Repo.FullName).Str("env", req.Env).Str("sha", req.Commit).
		Str("gate", v.Gate).Str("verdict", v.State.String())
	switch v.State {
	case gate.Open:
		return true, nil
	case gate.Pending:
		log.Msg("deploy waits for its gate")
		return false, nil
	}
	if _, err := h.Publisher.Publish(ctx, gate.Record(req, v, h.now())); err != nil {
		return false, fmt.Errorf("record deploy to %s %s: %w", req.Env, v.State, err)
	}
	log.Str("reason", v.Reason).Msg("deploy stopped by its gate")
	return false, nil
}
