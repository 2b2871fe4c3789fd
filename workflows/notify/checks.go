package notify

import (
	"fmt"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/checks"
)

// CheckContext is the status context of a check: "slipway/check/<name>".
func CheckContext(name string) string { return "slipway/check/" + name }

// describeCheck returns the status a check event reports, and the status
// of the deploy a gate stopped.
func describeCheck(e events.Event) (events.Repo, []Status, *comment) {
	switch e := e.(type) {
	case *events.CheckRequested:
		return e.Repo, []Status{{e.Repo, e.Commit, Pending, CheckContext(e.Check.Name), "running " + e.Check.Name, ""}}, nil
	case *events.CheckFinished:
		st := Status{e.Repo, e.Commit, Success, CheckContext(e.Check), fmt.Sprintf("passed in %s", e.Duration.Round(100*time.Millisecond)), ""}
		if !e.Passed {
			st.State, st.Description = Failure, firstLine(checks.Explain(e))
		}
		return e.Repo, []Status{st}, nil
	case *events.DeployGated:
		st := Status{e.Repo, e.Commit, Failure, "slipway/deploy/" + e.Env, e.Outcome.String() + ": " + firstLine(e.Reason), ""}
		if e.Outcome == events.OutcomeHeld {
			st.State = Pending // deployed when the freeze ends
		}
		return e.Repo, []Status{st}, nil
	}
	return events.Repo{}, nil, nil
}
