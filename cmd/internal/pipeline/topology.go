package pipeline

import (
	"context"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/notifier"
	"github.com/slipway-dev/slipway/readmodel"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/checks"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// The durable consumers of stream SLIPWAY, each declared once in consumers
// below with the handler it feeds.
const (
	ConsumerPush         = "builder-push"     // push received → plan the builds
	ConsumerBuild        = "builder-build"    // build requested → one BuildKit solve
	ConsumerBuilt        = "deployer-built"   // commit built → deploy requested
	ConsumerTag          = "builder-tag"      // commit built → the tags of its reused images
	ConsumerDeploy       = "deployer-deploy"  // deploy requested → target
	ConsumerReleasePush  = "release-push"     // push to the default branch → deploy a changed pin
	ConsumerReleasePR    = "release-pr"       // pull request → release plan
	ConsumerReleaseAsked = "release-request"  // an operator's release request (API) → deploy requested
	ConsumerPreviewPR    = "preview-pr"       // pull request → preview opened, updated, removed
	ConsumerPreviewBuilt = "preview-built"    // commit built → deploy to the previews it heads
	ConsumerNotify       = "notify"           // build, deploy and release results → the git host
	ConsumerCheck        = "builder-check"    // check requested → one BuildKit solve (workflows/checks)
	ConsumerChecked      = "deployer-checked" // check finished → the deploys of a built commit asked again
	ConsumerReadModel    = "readmodel"        // every event → the read model's query records
	ConsumerWebhooks     = "webhooks"         // deploy results → the operator's outgoing webhooks
)

// deployMaxAckPending bounds the deploys in flight across every deployer:
// deploys of different environments run in parallel, those of one
// environment wait for its lock.
const deployMaxAckPending = 64

// part is the group of handlers a consumer feeds; each group is run by one
// natsjs.Runner.Run of its component.
type part int

const (
	partBuild     part = iota // the builder's: build.Handler
	partDeploy                // the deployer's deploy workflow: deploy.Handler and the release handler's built
	partRelease               // the deployer's release, preview and notify workflows (ReleaseWorkflows.Run)
	partReadModel             // the deployer's projector of the read model (readmodel.Model.Project)
	partWebhooks              // the deployer's outgoing webhooks (notifier.Handler)
)

// handlers are the handlers the consumers feed; a component sets the ones
// it runs.
type handlers struct {
	cfg     *Config
	build   *build.Handler
	deploy  *deploy.Handler
	release *ReleaseWorkflows
	// builds and deploys record the steps in flight (resume.go); nil
	// records nothing.
	builds, deploys *inflight
	checks          *checks.Handler
	read            *readmodel.Model
	webhooks        *notifier.Handler
}

// consumer declares a durable consumer and binds it to the handler it
// feeds.
type consumer struct {
	natsjs.Consumer
	part  part
	route func(h handlers) natsjs.Route
}

// consumers is the topology of the workflows: which consumer reads which
// events, which role pulls it, and which handler it feeds. Provision
// creates the consumers from it (Topology), the embedded server derives each
// role's permissions from it, and the components' routes come from it.
var consumers = []consumer{
	{
		Consumer: natsjs.Consumer{Name: ConsumerPush, Role: natsjs.RoleBuilder, Description: "plans the builds of a pushed commit",
			Subjects: []string{events.SubjectPushReceived}, MaxAckPending: 256},
		part: partBuild,
		// cfg.PushWorkers pushes at once: reading a commit's slipway.yaml
		// may fetch, and a repository whose host is slow or hangs must not
		// hold the pushes of every other repository (the mirror fetches
		// each repository on its own, bounded by -git-timeout).
		route: func(h handlers) natsjs.Route {
			return natsjs.Route{Consumer: ConsumerPush, Handler: natsjs.Typed(h.build.HandlePush), Workers: h.cfg.PushWorkers}
		},
	},
	{
		Consumer: natsjs.Consumer{Name: ConsumerBuild, Role: natsjs.RoleBuilder, Description: "builds one service of one commit",
			Subjects: []string{events.SubjectBuildRequested}, MaxAckPending: 256},
		part: partBuild,
		// cfg.BuildWorkers solves at once, sharing the builder's buildkitd:
		// the services of a commit build in parallel; more requests are
		// handled at once, since a reused image needs no solve
		// (buildlimit.go).
		route: func(h handlers) natsjs.Route {
			return natsjs.Route{Consumer: ConsumerBuild, Handler: natsjs.Typed(track(h.builds, h.build.HandleBuild)),
				Workers: buildHandlersPerSolve * h.cfg.BuildWorkers}
		},
	},
	{
		// The tags <service>:<sha> of the images a commit reused, put once
		// it is built: its deploys pin digests and need none of them
		// (build.Handler.TagReused).
		Consumer: natsjs.Consumer{Name: ConsumerTag, Role: natsjs.RoleBuilder, DeliverNew: true, MaxAckPending: 64,
			Description: "tags the images a built commit reused", Subjects: []string{events.SubjectCommitBuilt}},
		part: partBuild,
		route: func(h handlers) natsjs.Route {
			return natsjs.Route{Consumer: ConsumerTag, Handler: natsjs.Typed(h.build.TagReused)}
		},
	},
	{
		Consumer: natsjs.Consumer{Name: ConsumerBuilt, Role: natsjs.RoleDeployer, Description: "turns a built commit into deploy requests",
			Subjects: []string{events.SubjectCommitBuilt}, MaxAckPending: 256},
		part: partDeploy,
		route: func(h handlers) natsjs.Route {
			return natsjs.Route{Consumer: ConsumerBuilt, Handler: natsjs.Typed(h.release.Release.HandleBuilt)}
		},
	},
	{
		// Deploys of different environments run in parallel; the lock of
		// each environment (natsjs.BucketLocks) keeps one deploy at a time
		// there.
		Consumer: natsjs.Consumer{Name: ConsumerDeploy, Role: natsjs.RoleDeployer, Description: "deploys a commit to an environment",
			Subjects: []string{events.SubjectDeployRequested + ".>"}, MaxAckPending: deployMaxAckPending},
		part: partDeploy,
		route: func(h handlers) natsjs.Route {
			return natsjs.Route{Consumer: ConsumerDeploy, Handler: natsjs.Typed(track(h.deploys, h.deploy.HandleDeploy)), Workers: h.cfg.DeployWorkers}
		},
	},
	// The consumers of the release, preview and notification workflows see
	// each matching event once. They start with the events published after
	// they are created: added to an existing stream, they must not replay
	// its history (old pins, closed pull requests, old statuses).
	{
		Consumer: natsjs.Consumer{Name: ConsumerReleasePush, Role: natsjs.RoleDeployer, DeliverNew: true, MaxAckPending: 64,
			Description: "deploys the commit a pin file names when a push changes it", Subjects: []string{events.SubjectPushReceived}},
		part: partRelease,
		route: func(h handlers) natsjs.Route {
			return natsjs.Route{Consumer: ConsumerReleasePush, Handler: natsjs.Typed(h.release.Release.HandlePush)}
		},
	},
	{
		Consumer: natsjs.Consumer{Name: ConsumerReleasePR, Role: natsjs.RoleDeployer, DeliverNew: true, MaxAckPending: 64,
			Description: "plans the release of a pull request changing a pin file", Subjects: []string{events.SubjectPullRequest + ".>"}},
		part: partRelease,
		route: func(h handlers) natsjs.Route {
			return natsjs.Route{Consumer: ConsumerReleasePR, Handler: natsjs.Typed(h.release.Release.HandlePullRequest)}
		},
	},
	{
		// An operator's release through the API: a merged pin without the
		// pin file. Requests are rare; one at a time keeps two of the same
		// environment in the order they were asked.
		Consumer: natsjs.Consumer{Name: ConsumerReleaseAsked, Role: natsjs.RoleDeployer, DeliverNew: true, MaxAckPending: 1,
			Description: "releases a commit an operator asked for through the API", Subjects: []string{events.SubjectReleaseRequested + ".>"}},
		part: partRelease,
		route: func(h handlers) natsjs.Route {
			return natsjs.Route{Consumer: ConsumerReleaseAsked, Handler: natsjs.Typed(h.release.Release.HandleRequested)}
		},
	},
	{
		Consumer: natsjs.Consumer{Name: ConsumerPreviewPR, Role: natsjs.RoleDeployer, DeliverNew: true, MaxAckPending: 64,
			Description: "opens, updates and removes pull request previews", Subjects: []string{events.SubjectPullRequest + ".>"}},
		part: partRelease,
		route: func(h handlers) natsjs.Route {
			return natsjs.Route{Consumer: ConsumerPreviewPR, Handler: natsjs.Typed(h.release.Preview.HandlePullRequest)}
		},
	},
	{
		Consumer: natsjs.Consumer{Name: ConsumerPreviewBuilt, Role: natsjs.RoleDeployer, DeliverNew: true, MaxAckPending: 64,
			Description: "deploys a built commit to the previews it heads", Subjects: []string{events.SubjectCommitBuilt}},
		part: partRelease,
		route: func(h handlers) natsjs.Route {
			return natsjs.Route{Consumer: ConsumerPreviewBuilt, Handler: natsjs.Typed(h.release.Preview.HandleBuilt)}
		},
	},
	{
		// One event at a time, so statuses arrive in order.
		Consumer: natsjs.Consumer{Name: ConsumerNotify, Role: natsjs.RoleDeployer, DeliverNew: true, MaxAckPending: 1,
			Description: "posts build, deploy and release results to the git hosts",
			Subjects: []string{
				events.SubjectBuildRequested, events.SubjectBuildSucceeded, events.SubjectBuildFailed, events.SubjectCommitFailed,
				events.SubjectDeployRequested + ".>", events.SubjectDeploySucceeded + ".>", events.SubjectDeployFailed + ".>",
				events.SubjectDeploySuperseded + ".>", events.SubjectReleasePlanned + ".>",
				events.SubjectCheckRequested, events.SubjectCheckFinished, events.SubjectDeployGated + ".>",
			}},
		part: partRelease,
		route: func(h handlers) natsjs.Route {
			return natsjs.Route{Consumer: ConsumerNotify, Handler: func(ctx context.Context, env events.Envelope) error {
				ev, err := env.Decode()
				if err != nil {
					return err
				}
				return h.release.Notify.Handle(ctx, ev)
			}}
		},
	},
	{
		// One event at a time, in stream order: the projector orders and
		// deduplicates by stream sequence. It starts with the first event
		// stored, so an installation of an earlier version gets its
		// history folded at the first start.
		Consumer: natsjs.Consumer{Name: ConsumerReadModel, Role: natsjs.RoleDeployer, MaxAckPending: 1,
			Description: "folds every event into the read model", Subjects: []string{events.SubjectRoot + ".>"},
			Buckets: natsjs.ReadModelBuckets},
		part: partReadModel,
		route: func(h handlers) natsjs.Route {
			return natsjs.Route{Consumer: ConsumerReadModel, Handler: h.read.Project}
		},
	},
	{
		// Its own consumer, so a slow receiver never holds a deploy: each
		// receiver is retried with backoff inside the handler (about a
		// minute and a half at most, within AckWait), four at once.
		Consumer: natsjs.Consumer{Name: ConsumerWebhooks, Role: natsjs.RoleDeployer, DeliverNew: true, MaxAckPending: 16,
			AckWait: 5 * time.Minute, Description: "posts deploy results to the operator's webhooks (-notify-url)",
			Subjects: []string{events.SubjectDeploySucceeded + ".>", events.SubjectDeployFailed + ".>"}},
		part: partWebhooks,
		route: func(h handlers) natsjs.Route {
			return natsjs.Route{Consumer: ConsumerWebhooks, Handler: h.webhooks.Handle, Workers: 4}
		},
	},
}

// init adds the consumers of the checks (checks.go).
func init() { consumers = append(consumers, checkConsumers...) }

// Topology returns the default topology with the workflows' consumers:
// what every component provisions and `slipway up`'s server grants.
func Topology() natsjs.Topology {
	t := natsjs.DefaultTopology()
	for _, c := range consumers {
		t.Consumers = append(t.Consumers, c.Consumer)
	}
	return t
}

// routes binds the consumers of p to their handlers in h.
func routes(p part, h handlers) []natsjs.Route {
	var out []natsjs.Route
	for _, c := range consumers {
		if c.part == p {
			out = append(out, c.route(h))
		}
	}
	return out
}
