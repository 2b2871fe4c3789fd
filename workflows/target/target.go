package target

import (
	"context"
	"net"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// Target runs the environments of repositories somewhere: one Docker
// daemon, a set of hosts, a cluster. An environment is named by its
// repository and its name; a target never mixes two repositories'
// environments of one name. It implements deploy.Target (Current,
// Deploy), preview's Current and Remove, and tasks.Runner.
//
// Errors carry their retry policy: a target that cannot be reached is
// events.Retryable, a deployment no retry can make work (a bad image, a
// failed health gate, a limit exceeded) events.Permanent, and a call
// interrupted by its context returns the context's error, which is
// neither.
type Target interface {
	// Current returns what env of repo runs, read back from the target
	// alone, services sorted by name. A service is Running only when every
	// replica its release declares is live, running and at the same commit
	// and digest; Addrs are the addresses of its live replicas (for
	// Dial), Instances where each runs. An environment with nothing live
	// is an empty Release, not an error.
	Current(ctx context.Context, repo, env string) (deploy.Release, error)

	// Deploy makes env of d.Repo run d: it starts every replica of every
	// image (ServiceSpec.Replicas, 0 meaning 1) beside the running ones,
	// pulled by digest, waits until every new replica answers its health
	// path with a 2xx (the health gate), and only then swaps them in and
	// removes the previous ones and the replicas and services d no longer
	// has. When any new replica fails, every new one is removed, the
	// previous release keeps serving untouched, and the error is
	// events.Permanent wrapping a *deploy.UnhealthyError with the last lines
	// of its log. Deploying the release env already runs, with the same
	// replica counts, all running, is a no-op. Deploy first clears what an
	// earlier Deploy interrupted by a crash left behind.
	Deploy(ctx context.Context, d deploy.Deployment) error

	// Remove removes everything env of repo runs, live or not. Removing an
	// environment that runs nothing is not an error; another repository's
	// environment of the same name is never touched.
	Remove(ctx context.Context, repo, env string) error

	// RunTask runs task (a migration) from img, pulled by digest, to
	// completion on the target, with the service's environment of d and
	// SLIPWAY_TASK=<task>, and removes what it started. It returns the end
	// of the output and the exit code; a task still running after its
	// timeout is killed and is an events.Permanent error.
	RunTask(ctx context.Context, d deploy.Deployment, img events.Image, task events.Task) (output string, exitCode int, err error)

	// ResolveAll returns the address of every running live replica of
	// service in env of repo, in replica order, for the proxy to spread
	// requests over and for health checks; it wraps ErrNotLive when none
	// runs. An address is "host:port" as Dial reaches it, unique among the
	// targets of one Slipway: a remote target names its host in it, never
	// a bare loopback address of another machine.
	ResolveAll(ctx context.Context, repo, env, service string) ([]string, error)

	// Dial connects to an address this target reported (ResolveAll,
	// ServiceState.Addrs, Instance.Addr): the local daemon dials it
	// directly, a remote target through its own transport (an SSH
	// connection, a port-forward).
	Dial(ctx context.Context, network, addr string) (net.Conn, error)

	// Close releases the target's connections.
	Close() error
}
