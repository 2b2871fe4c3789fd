package release

import (
	"context"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// Source reads a file of a repository at a commit (gitmirror.Mirror). A
// path missing from the commit is an error wrapping fs.ErrNotExist.
type Source interface {
	ReadFile(ctx context.Context, repo events.Repo, sha, path string) ([]byte, error)
}

// Planner reads the slipway.yaml of a commit, once per commit, and plans
// its builds (build.Planner).
type Planner interface {
	// Manifest returns the parsed slipway.yaml of sha; a missing or invalid
	// file is a permanent error.
	Manifest(ctx context.Context, repo events.Repo, sha string) (*manifest.Manifest, error)
	// Plan requests the builds of sha, built on branch.
	Plan(ctx context.Context, repo events.Repo, sha, branch string) error
}

// Publisher publishes an event and returns once it is stored.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) (duplicate bool, err error)
}

// Envs reads what Slipway recorded each environment of a repository runs.
type Envs interface {
	Get(ctx context.Context, repo, env string) (st deploy.State, ok bool, err error)
}

// SecretVersions reads the versions of the secrets set on an environment,
// by name (natsstore.SecretStore); never a value.
type SecretVersions interface {
	Versions(ctx context.Context, repo, env string) (map[string]uint64, error)
}

// Log lists the commits of a repository between two commits (gitmirror).
type Log interface {
	// Log returns the commits reachable from to but not from from, newest
	// first, at most limit of them, and how many there are. An empty from
	// lists to's history.
	Log(ctx context.Context, repo events.Repo, from, to string, limit int) ([]events.Commit, int, error)
}

// History reads the recorded deploys of an environment from the audit log.
type History interface {
	// Deploys returns every deploy result of env of repo, oldest first.
	Deploys(ctx context.Context, repo, env string) ([]Deploy, error)
}

// CommitRuns is implemented by a History that answers how one commit's
// deploys to an environment ended without reading the whole history (the
// read model): what a release plan checks on every pull request event.
type CommitRuns interface {
	// Runs returns how the deploys of sha of repo to env ended; ok is false
	// when it knows none (the caller reads the history then).
	Runs(ctx context.Context, repo, env, sha string) (runs Runs, ok bool, err error)
}

// Runs is how the deploys of one commit to one environment ended.
type Runs struct {
	// Succeeded is set once one put the commit in service; Failed is the
	// reason of the last one that failed.
	Succeeded bool   `json:"succeeded,omitempty"`
	Failed    string `json:"failed,omitempty"`
}

// With returns r with the result of d added.
func (r Runs) With(d Deploy) Runs {
	switch d.Outcome {
	case events.OutcomeSucceeded:
		r.Succeeded = true
	case events.OutcomeFailed:
		r.Failed = d.Reason
		if r.Failed == "" {
			r.Failed = "failed"
		}
	}
	return r
}

// Deploy is one recorded deploy result: the event and where it is in the
// audit log.
type Deploy struct {
	events.DeployResult
	// ID is the result event's id, Seq its sequence in the stream, Time when
	// it was recorded.
	ID   string
	Seq  uint64
	Time time.Time
}

// Succeeded reports whether the deploy put its commit in service.
func (d Deploy) Succeeded() bool { return d.Outcome == events.OutcomeSucceeded }
