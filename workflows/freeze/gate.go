package freeze

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/workflows/gate"
)

var _ gate.Gate = (*Gate)(nil)

// Gate holds the automatic deploys of frozen environments: the freeze
// record keeps the latest, and Unlock or Sweep publishes it.
type Gate struct {
	Store Store
	Now   func() time.Time
}

// Admit implements gate.Gate. A freeze past its expiry no longer holds:
// the deploy goes ahead (Sweep publishes what the freeze held before).
func (g *Gate) Admit(ctx context.Context, req *events.DeployRequested, _ *manifest.Manifest) (gate.Verdict, error) {
	if req.Kind != events.KindAuto { // releases, rollbacks, replays, previews
		return gate.Verdict{State: gate.Open}, nil
	}
	now := time.Now()
	if g.Now != nil {
		now = g.Now()
	}
	for range 10 {
		f, rev, found, err := g.Store.Get(ctx, req.Repo.FullName, req.Env)
		if err != nil {
			return gate.Verdict{}, err
		}
		if !found || !f.Active(now) {
			return gate.Verdict{State: gate.Open}, nil
		}
		v := gate.Verdict{State: gate.Held, Gate: "freeze", Reason: f.Describe()}
		if f.Held != nil && f.Held.DedupKey() == req.DedupKey() {
			return v, nil
		}
		f.Held = req
		if err := g.Store.Put(ctx, f, rev); !errors.Is(err, ErrConflict) {
			return v, err
		}
	}
	return gate.Verdict{}, fmt.Errorf("hold deploy to %s: %w too often", req.Env, ErrConflict)
}
