package deploy

import (
	"context"

	"github.com/slipway-dev/slipway/events"
)

// Deployment is one commit's images for one environment of a repository.
type Deployment struct {
	Env    string
	Repo   string
	Commit string
	Images []events.Image
	// Origin is the repository as the deploy request names it (its clone
	// URL), for reading files of the commit (provisioning steps); it may
	// be zero, then Repo names it.
	Origin events.Repo `json:"-"`
	// Target is the name of the operator's target the environment runs on
	// (events.DeployRequested.Target; "" is events.LocalTarget). A Target
	// implementation runs a deployment it is handed whatever the name: the
	// placement (workflows/target) chose it.
	Target string
	// Secrets are the opened secrets the services reference
	// (ServiceSpec.Secrets); each service's containers get those it names.
	Secrets []Secret
	// Retain is how many releases before this one keep their containers,
	// stopped, on the target, so that a rollback to one of them is a start
	// and a health check (slipway.yaml's retain:); 0 is the target's
	// default.
	Retain int
	// From, when set, names another environment of the repository whose
	// running containers become this one's where they run a service as
	// the deployment declares it (the same image, values and secrets): a
	// promoted canary's shadow, so the new commit is not started twice.
	// They are health-checked and swapped in like new ones. A Target that
	// cannot move containers starts new ones.
	From string `json:"-"`
	// Promoted, when set, is called by a Target once the new containers
	// answer in place of the old ones and before those drain, so the deploy
	// is recorded as it starts serving. A Target that does not call it has
	// the deploy recorded when Deploy returns.
	Promoted func(ctx context.Context) `json:"-"`
	// Rollout is how the environment moves to Commit
	// (events.DeployRequested.Rollout); a Target that cannot split
	// traffic deploys plainly.
	Rollout *events.Rollout `json:"-"`
}

// ServiceState is one service as it runs in an environment.
type ServiceState struct {
	Name    string
	Commit  string
	Image   string
	Digest  string
	Running bool
	// Addr is the host:port the service answers on, for health checks and
	// for the proxy, as its target's Dial reaches it (target.Target): its
	// first replica's when it has several.
	Addr string
	// Addrs are the host:port of every live replica, the first one Addr. A
	// Target that runs one container per service may leave it empty.
	Addrs []string
	// Replicas is how many replicas the running release declares, and Up
	// how many of them run its commit; a Target that does not count
	// replicas leaves both 0.
	Replicas, Up int
	// Instances are the live replicas one by one, with the host or node
	// each runs on, for `slipway status`; a Target that cannot tell
	// leaves it empty.
	Instances []Instance
	// Secrets are the versions of the secrets the running containers got,
	// by name (SecretVersions); a changed secret makes the next deploy of
	// the same commit no no-op.
	Secrets map[string]uint64
}

// Instance is one live replica of a service: where it runs and what.
type Instance struct {
	// Node is the host or node the replica runs on, as the target names
	// it: "local" for the deployer's own daemon, an SSH host's name, a
	// Kubernetes node.
	Node string
	// ID names the replica as its target does: a container id, a Swarm
	// task id, a pod name. A deploy that keeps a replica keeps its ID.
	ID      string
	Replica int
	// Addr is the replica's host:port as Target.Dial reaches it ("" when it
	// publishes none).
	Addr    string
	Commit  string
	Digest  string
	Running bool
}

// Release is what an environment actually runs, read from the target alone.
type Release struct {
	Repo     string
	Env      string
	Services []ServiceState
}

// Commit returns the commit every service runs, or "" when the services
// disagree or nothing runs.
func (r Release) Commit() string {
	if len(r.Services) == 0 {
		return ""
	}
	c := r.Services[0].Commit
	for _, s := range r.Services[1:] {
		if s.Commit != c {
			return ""
		}
	}
	return c
}

// Target runs containers for environments; an environment is named by its
// repository and its name, and a target never mixes two repositories'
// environments of one name. Deploy starts the new containers,
// waits until every one answers its health check, and only then removes the
// previous ones; when any new one fails, every new one is removed, the previous
// ones keep serving and the error is events.Permanent with the reason.
type Target interface {
	Current(ctx context.Context, repo, env string) (Release, error)
	Deploy(ctx context.Context, d Deployment) error
}

// Hosts claims the host names the services of an environment declare
// (hosts.Claimer): the first environment to claim a host keeps it.
type Hosts interface {
	// Claim claims every host images declare for env of repo. A host the
	// environment may not have is refused with an events.Permanent error
	// naming it; then nothing is claimed. undo removes the claims the call
	// made, for a deploy that then fails.
	Claim(ctx context.Context, repo, env string, images []events.Image) (undo func(context.Context), err error)
	// Prune removes the claims of env of repo that images no longer need.
	Prune(ctx context.Context, repo, env string, images []events.Image) error
}

// Targets finds the target an environment deploys to (target.Placement):
// the operator names the targets and which repositories and environments
// may use each; slipway.yaml only picks one by name.
type Targets interface {
	// Target returns the target called name ("" is the default,
	// events.LocalTarget) for env of repo. A name the operator did not
	// configure, or a target env of repo may not use, is an
	// events.Permanent error naming it.
	Target(repo, env, name string) (Target, error)
}

// UnhealthyError is the reason a new replica failed a deploy's health gate:
// it exited, or did not answer its health check in time. Every Target
// returns it wrapped in events.Permanent, with the last lines of the
// replica's log, so a failed deploy's record says why.
type UnhealthyError struct {
	Service string
	Replica int
	// Node is where the replica ran; Instance names the replica as the
	// target knows it: "container <name>", "pod <name>".
	Node, Instance string
	Reason         string
	// Logs are the last lines of the replica's output, "" when it wrote
	// none or the target could not read them.
	Logs string
}

func (e *UnhealthyError) Error() string {
	msg := "service " + e.Service + " (" + e.instance() + "): " + e.Reason
	if e.Logs != "" {
		msg += "; last log lines:\n" + e.Logs
	}
	return msg
}

// instance names the replica in the message, with its node when it is not
// the local one.
func (e *UnhealthyError) instance() string {
	if e.Node != "" && e.Node != events.LocalTarget {
		return e.Instance + " on " + e.Node
	}
	return e.Instance
}
