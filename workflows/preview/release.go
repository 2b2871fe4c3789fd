package preview

import (
	"context"
	"fmt"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
)

// Changes tells the paths a commit changes against its first parent
// (gitmirror.Mirror).
type Changes interface {
	ChangedPaths(ctx context.Context, repo events.Repo, sha string) ([]string, error)
}

// isRelease reports whether the pull request e is a release: its head
// commit changes only pin files of m's environments, as `slipway release`
// writes it. A release gets no preview (its images are those of the
// commit it pins, already built and previewed) unless the preview
// environment asks for them (release_previews: true), or Changes is not
// set.
func (h *Handler) isRelease(ctx context.Context, e *events.PullRequestChanged, m *manifest.Manifest, tmpl manifest.Environment) (bool, error) {
	if h.Changes == nil || tmpl.ReleasePreviews {
		return false, nil
	}
	pins := map[string]bool{}
	for _, env := range m.Environments() {
		if env.Follows == manifest.FollowsPin {
			pins[env.Pin] = true
		}
	}
	if len(pins) == 0 {
		return false, nil
	}
	paths, err := h.Changes.ChangedPaths(ctx, e.Repo, e.HeadSHA)
	if err != nil {
		return false, fmt.Errorf("changes of pull request #%d: %w", e.Number, err)
	}
	for _, p := range paths {
		if !pins[p] {
			return false, nil
		}
	}
	return len(paths) > 0, nil
}
