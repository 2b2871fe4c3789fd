package provision

import (
	"context"
	"io"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// Run is one run of a provisioning step.
type Run struct {
	Repo, Env, Commit string
	Step              events.ProvisionStep
	Phase             events.ProvisionPhase
	// Files is a tar stream of the step's dir at the commit, its paths
	// relative to that dir.
	Files io.Reader
	// Secrets are the opened secrets the step names.
	Secrets []deploy.Secret
}

// Runner runs a provisioning step to completion on a target and returns
// the end of its output and its exit code (docker.Target).
type Runner interface {
	RunProvision(ctx context.Context, r Run) (output string, exitCode int, err error)
}

// Runners finds the runner of an environment's target (the placement's
// target called name, "" the local one).
type Runners interface {
	Runner(repo, env, name string) (Runner, error)
}

// Checkouts writes the tree of a commit into a directory (gitmirror.Mirror).
type Checkouts interface {
	Checkout(ctx context.Context, repo events.Repo, sha string) (dir string, release func(), err error)
}

// Manifests reads the slipway.yaml of a commit (build.Planner).
type Manifests interface {
	Manifest(ctx context.Context, repo events.Repo, sha string) (*manifest.Manifest, error)
}

// Publisher publishes an event and returns once it is stored.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) (duplicate bool, err error)
}
