package release

import (
	"context"
	"errors"
	"fmt"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/checks"
	"github.com/slipway-dev/slipway/workflows/gate"
)

// ErrNotReleasable is wrapped by the errors of CheckReleasable.
var ErrNotReleasable = errors.New("not releasable")

// CheckHealthy returns nil when sha was deployed successfully to staging,
// and otherwise an error wrapping ErrNotReleasable that says what happened
// to it there.
func CheckHealthy(staging []Deploy, env, sha string) error {
	var failed *Deploy
	for i, d := range staging {
		if d.Commit != sha {
			continue
		}
		if d.Succeeded() {
			return nil
		}
		if d.Outcome == events.OutcomeFailed {
			failed = &staging[i]
		}
	}
	if failed != nil {
		return fmt.Errorf("%s never ran healthy on %s (its deploy failed: %s): %w", short(sha), env, firstLine(failed.Reason), ErrNotReleasable)
	}
	return fmt.Errorf("%s never ran on %s: %w", short(sha), env, ErrNotReleasable)
}

// CheckReleasable returns nil when every service of sha was built and sha
// ran healthy on the staging environment; otherwise an error wrapping
// ErrNotReleasable says which is missing.
func CheckReleasable(ctx context.Context, claims workflows.Claims, history History, repo, sha string, services []string, staging string) error {
	if _, err := build.BuiltImages(ctx, claims, repo, sha, services); errors.Is(err, build.ErrNotBuilt) {
		return fmt.Errorf("%s was never built (%w): %w", short(sha), err, ErrNotReleasable)
	} else if err != nil {
		return err
	}
	deploys, err := history.Deploys(ctx, repo, staging)
	if err != nil {
		return err
	}
	return CheckHealthy(deploys, staging, sha)
}

func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

// CheckChecks returns nil unless a check of sha failed (checks.Verdict),
// and then an error wrapping ErrNotReleasable naming the check. A check
// still running is refused too: what was not checked is not released.
func CheckChecks(ctx context.Context, claims workflows.Claims, repo, sha string, list []events.Check) error {
	v, err := checks.Verdict(ctx, claims, repo, sha, list)
	if err != nil {
		return err
	}
	if v.State == gate.Blocked || v.State == gate.Pending {
		return fmt.Errorf("%s: %s (%s): %w", short(sha), v.Reason, v.Gate, ErrNotReleasable)
	}
	return nil
}
