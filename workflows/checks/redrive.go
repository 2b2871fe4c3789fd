package checks

import (
	"context"
	"errors"
	"fmt"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/gate"
)

// BuiltHandler deploys a built commit where it goes (release.Handler,
// preview.Handler).
type BuiltHandler interface {
	HandleBuilt(ctx context.Context, e *events.CommitBuilt) error
}

// Redrive hands a commit to its BuiltHandlers again when its last check
// finishes after its builds: the commit-built event found the checks
// pending and requested nothing. The event it hands over is the one the
// builds published (same id), so whatever it requests is what the
// commit-built event would have: a duplicate the stream drops when both
// got through.
type Redrive struct {
	Planner  Manifests
	Claims   workflows.Claims
	Handlers []BuiltHandler
}

// HandleFinished implements the redrive for one finished check.
func (r *Redrive) HandleFinished(ctx context.Context, e *events.CheckFinished) error {
	m, err := r.Planner.Manifest(ctx, e.Repo, e.Commit)
	if err != nil {
		return err
	}
	v, err := Verdict(ctx, r.Claims, e.Repo.FullName, e.Commit, m.Checks())
	if err != nil {
		return err
	}
	if v.State == gate.Pending {
		return events.Ignored("commit %s: %s", e.Commit, v.Reason)
	}
	images, err := build.BuiltImages(ctx, r.Claims, e.Repo.FullName, e.Commit, m.Names())
	if errors.Is(err, build.ErrNotBuilt) {
		return events.Ignored("commit %s: checks done, builds not yet", e.Commit)
	}
	if err != nil {
		return err
	}
	built := &events.CommitBuilt{Repo: e.Repo, Commit: e.Commit, Branch: e.Branch, Images: images}
	var errs []error
	for _, h := range r.Handlers {
		var ig *events.IgnoredError
		if err := h.HandleBuilt(ctx, built); err != nil && !errors.As(err, &ig) {
			errs = append(errs, fmt.Errorf("hand checked commit over: %w", err))
		}
	}
	return errors.Join(errs...)
}
