package preview

import (
	"context"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// Preview is the record of one pull request's preview environment.
type Preview struct {
	Env    string      `json:"env"`
	Repo   events.Repo `json:"repo"`
	Number int         `json:"number"`
	// Source is where the head branch lives (a fork), HeadBranch its name.
	Source     events.Repo `json:"source"`
	HeadBranch string      `json:"head_branch"`
	HeadSHA    string      `json:"head_sha"`
	// Generation counts the openings: a reopened pull request gets a new
	// preview (and new deploy ids).
	Generation int           `json:"generation"`
	Open       bool          `json:"open"`
	TTL        time.Duration `json:"ttl_ns,omitempty"`
	UpdatedAt  time.Time     `json:"updated_at"`
	ClosedAt   time.Time     `json:"closed_at,omitzero"`
	Reason     string        `json:"reason,omitempty"`
	Removed    bool          `json:"removed,omitempty"`
}

// Store keeps the preview records, one per (repository, pull request).
type Store interface {
	Get(ctx context.Context, repo string, number int) (p Preview, ok bool, err error)
	Put(ctx context.Context, p Preview) error
	Delete(ctx context.Context, repo string, number int) error
	List(ctx context.Context) ([]Preview, error)
}

// Target reads and removes environments (docker.Target).
type Target interface {
	Current(ctx context.Context, repo, env string) (deploy.Release, error)
	// Remove removes every container of env of repo; an empty env is not
	// an error.
	Remove(ctx context.Context, repo, env string) error
}

// EnvRecords forgets what an environment ran (natsstore.EnvStore).
type EnvRecords interface {
	Delete(ctx context.Context, repo, env string) error
}

// PullRequests tells whether a pull request is still open.
type PullRequests interface {
	IsOpen(ctx context.Context, p Preview) (bool, error)
}

// Branches tells whether a branch exists on a repository's git host.
type Branches interface {
	BranchExists(ctx context.Context, repo events.Repo, branch string) (bool, error)
}

// BranchCheck is PullRequests without a git host API: a pull request whose
// head branch is gone is no longer open (hosts delete it on merge, or the
// author does). A closed pull request whose branch stays is found by the
// ttl instead.
type BranchCheck struct{ Branches Branches }

// IsOpen implements PullRequests.
func (b BranchCheck) IsOpen(ctx context.Context, p Preview) (bool, error) {
	repo := p.Source
	if repo.CloneURL == "" {
		repo = p.Repo
	}
	return b.Branches.BranchExists(ctx, repo, p.HeadBranch)
}

// Planner reads the slipway.yaml of a commit, once per commit, and plans
// its builds (build.Planner).
type Planner interface {
	// Manifest returns the parsed slipway.yaml of sha; a missing or invalid
	// file is a permanent error.
	Manifest(ctx context.Context, repo events.Repo, sha string) (*manifest.Manifest, error)
	// Plan requests the builds of sha, built on branch.
	Plan(ctx context.Context, repo events.Repo, sha, branch string) error
	// FailCommit publishes the build failure of sha and returns cause as a
	// permanent error.
	FailCommit(ctx context.Context, repo events.Repo, sha, branch string, cause error) error
}

// DeployRequester prepares the deploy of a built commit to an environment,
// with the values the commit's slipway.yaml gives it (release.Handler). A
// commit not built is an error wrapping build.ErrNotBuilt.
type DeployRequester interface {
	Request(ctx context.Context, repo events.Repo, env manifest.Environment, sha string) (*events.DeployRequested, error)
}

// Publisher publishes an event and returns once it is stored.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) (duplicate bool, err error)
}
