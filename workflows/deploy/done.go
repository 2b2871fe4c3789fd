package deploy

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
)

// Done is what the claim of a deploy request records once the request is
// handled: its outcome, and the kind and actor of the request.
type Done struct {
	Outcome events.DeployOutcome `json:"outcome"`
	Kind    events.DeployKind    `json:"kind,omitempty"`
	Actor   string               `json:"actor,omitempty"`
}

// ParseDone reads the record of a completed deploy claim. Claims of earlier
// versions hold the outcome alone, and spell succeeded "deployed".
func ParseDone(b []byte) (Done, error) {
	var d Done
	if err := json.Unmarshal(b, &d); err != nil {
		return Done{}, fmt.Errorf("read deploy record: %w", err)
	}
	return d, nil
}

// complete records e as handled with outcome in its claim.
func complete(ctx context.Context, lease workflows.Lease, e *events.DeployRequested, outcome events.DeployOutcome) error {
	b, err := json.Marshal(Done{Outcome: outcome, Kind: e.Kind, Actor: e.Actor})
	if err != nil {
		return fmt.Errorf("record deploy %s: %w", e.DedupKey(), err)
	}
	return lease.Complete(ctx, b)
}
