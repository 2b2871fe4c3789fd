package preview

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/gate"
)

// admit asks the Gate whether the preview deploy req goes ahead: a head
// whose checks have not finished waits (checks.Redrive hands it back when
// they have), one whose check failed is recorded blocked and gets no
// preview. open is true when req is to be published.
func (h *Handler) admit(ctx context.Context, req *events.DeployRequested) (open bool, err error) {
	if h.Gate == nil {
		return true, nil
	}
	m, err := h.Planner.Manifest(ctx, req.Repo, req.Commit)
	if err != nil {
		return false, err
	}
	v, err := h.Gate.Admit(ctx, req, m)
	if err != nil {
		return false, fmt.Errorf("gate preview %s: %w", req.Env, err)
	}
	if v.State == gate.Open {
		return true, nil
	}
	zerolog.Ctx(ctx).Info().Str("env", req.Env).Str("sha", req.Commit).Str("gate", v.Gate).
		Str("verdict", v.State.String()).Str("reason", v.Reason).Msg("preview stopped by its gate")
	if rec := gate.Record(req, v, h.now()); rec != nil {
		if _, err := h.Publisher.Publish(ctx, rec); err != nil {
			return false, fmt.Errorf("record preview %s %s: %w", req.Env, v.State, err)
		}
	}
	return false, nil
}
