// Package gate is what stands between a commit and an automatic deploy:
// checks that must pass (workflows/checks), a freeze of the environment
// (workflows/freeze), and later provisioning steps. A gate decides; the
// workflow asking (release, preview) acts on the verdict: deploys, waits,
// records the deploy blocked or held.
//
// A gate never deploys and never refuses a deliberate deploy (a release, a
// rollback): those are asked for by a person, who is shown the reason.
package gate

import (
	"context"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
)

// State is what a gate says of an automatic deploy.
type State uint8

// The states of a verdict.
const (
	Open    State = iota // go ahead
	Pending              // not decided yet: the deploy is asked again when it is (a check finishing)
	Blocked              // never: the commit failed (a check); recorded, not retried
	Held                 // not now: kept, and deployed when the gate opens (a freeze ending)
)

var stateNames = [...]string{Open: "open", Pending: "pending", Blocked: "blocked", Held: "held"}

// String returns the state's word.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// Verdict is a gate's answer: its State, the gate that gave it ("check/unit",
// "freeze") and why, for people.
type Verdict struct {
	State  State
	Gate   string
	Reason string
}

// Gate decides whether an automatic deploy request goes ahead. m is the
// slipway.yaml of the request's commit. A gate answering Held keeps the
// request itself, to deploy it when it opens.
type Gate interface {
	Admit(ctx context.Context, req *events.DeployRequested, m *manifest.Manifest) (Verdict, error)
}

// Chain asks its gates in order and returns the first verdict that is not
// Open: a commit blocked by a check is never held by a freeze.
type Chain []Gate

// Admit implements Gate.
func (c Chain) Admit(ctx context.Context, req *events.DeployRequested, m *manifest.Manifest) (Verdict, error) {
	for _, g := range c {
		if g == nil {
			continue
		}
		v, err := g.Admit(ctx, req, m)
		if err != nil || v.State != Open {
			return v, err
		}
	}
	return Verdict{State: Open}, nil
}

// Outcome returns the deploy outcome a verdict records (OutcomeBlocked,
// OutcomeHeld) and false for a verdict recording nothing.
func (v Verdict) Outcome() (events.DeployOutcome, bool) {
	switch v.State {
	case Blocked:
		return events.OutcomeBlocked, true
	case Held:
		return events.OutcomeHeld, true
	}
	return events.OutcomeUnknown, false
}

// Record returns the event recording req stopped by v at now, or nil when
// v records nothing.
func Record(req *events.DeployRequested, v Verdict, now time.Time) events.Event {
	o, ok := v.Outcome()
	if !ok {
		return nil
	}
	r := req.Result(o, "", now)
	r.Reason = v.Reason
	return &events.DeployGated{DeployResult: r, Gate: v.Gate}
}
