package checks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/workflows"
	"github.com/slipway-dev/slipway/workflows/gate"
)

var _ gate.Gate = Gate{}

// Gate is the gate of a commit's checks: pending while one has not
// finished, blocked by the first that failed, open when every one passed
// (or none is declared).
type Gate struct{ Claims workflows.Claims }

// Admit implements gate.Gate.
func (g Gate) Admit(ctx context.Context, req *events.DeployRequested, m *manifest.Manifest) (gate.Verdict, error) {
	return Verdict(ctx, g.Claims, req.Repo.FullName, req.Commit, m.Checks())
}

// Verdict returns the verdict of the checks of sha of repo.
func Verdict(ctx context.Context, claims workflows.Claims, repo, sha string, checks []events.Check) (gate.Verdict, error) {
	var pending []string
	for _, c := range checks {
		res, err := Recorded(ctx, claims, repo, sha, c.Name)
		if errors.Is(err, workflows.ErrNoResult) {
			pending = append(pending, c.Name)
			continue
		}
		if err != nil {
			return gate.Verdict{}, err
		}
		if !res.Passed {
			return gate.Verdict{State: gate.Blocked, Gate: "check/" + c.Name, Reason: Explain(res)}, nil
		}
	}
	if len(pending) > 0 {
		return gate.Verdict{State: gate.Pending, Gate: "check/" + pending[0],
			Reason: "waiting for check(s) " + strings.Join(pending, ", ")}, nil
	}
	return gate.Verdict{State: gate.Open}, nil
}

// Recorded returns the recorded result of check of sha of repo, or an
// error wrapping workflows.ErrNoResult while it has not finished.
func Recorded(ctx context.Context, claims workflows.Claims, repo, sha, check string) (*events.CheckFinished, error) {
	key := events.CheckKey(repo, sha, check)
	b, err := claims.Result(ctx, key)
	if err != nil {
		return nil, err
	}
	var res events.CheckFinished
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, events.Permanent(fmt.Errorf("decode check record %s: %w", key, err))
	}
	return &res, nil
}

// Explain says why a check failed in one line: its reason, or the last
// line of its output.
func Explain(res *events.CheckFinished) string {
	why := res.Reason
	if why == "" && len(res.Log) > 0 {
		why = res.Log[len(res.Log)-1]
	}
	if i := strings.IndexByte(why, '\n'); i >= 0 {
		why = why[:i]
	}
	if why == "" {
		return "check " + res.Check + " failed"
	}
	return "check " + res.Check + " failed: " + why
}
