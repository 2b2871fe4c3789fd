package gitmirror

import (
	"context"
	"errors"
	"fmt"
	"os/exec"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

var _ deploy.Ancestry = (*Mirror)(nil)

// IsAncestor reports whether ancestor is descendant or one of its ancestors
// (git merge-base --is-ancestor), fetching either commit if missing. Errors
// carry their policy as ensure's do: an unreachable remote is retryable, a
// commit the remote does not have is permanent.
func (m *Mirror) IsAncestor(ctx context.Context, repo events.Repo, ancestor, descendant string) (bool, error) {
	gitDir, err := m.ensure(ctx, repo, descendant)
	if err != nil {
		return false, err
	}
	if _, err := m.ensure(ctx, repo, ancestor); err != nil {
		return false, err
	}
	_, err = m.run(ctx, gitDir, "", "merge-base", "--is-ancestor", ancestor, descendant)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		return false, nil
	default:
		return false, fmt.Errorf("order %s and %s: %w", ancestor, descendant, err)
	}
}
