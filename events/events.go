package events

import "time"

// SchemaVersion is the version of every payload in this package. It is part of
// each CloudEvents type, so a consumer can tell versions apart from headers alone.
const SchemaVersion = "v1"

// CloudEvents types of Slipway's events (the ce-type attribute).
const (
	TypePushReceived    = "dev.slipway.push.received." + SchemaVersion
	TypeBuildRequested  = "dev.slipway.build.requested." + SchemaVersion
	TypeBuildSucceeded  = "dev.slipway.build.succeeded." + SchemaVersion
	TypeBuildFailed     = "dev.slipway.build.failed." + SchemaVersion
	TypeCommitBuilt     = "dev.slipway.commit.built." + SchemaVersion
	TypeDeployRequested = "dev.slipway.deploy.requested." + SchemaVersion
	TypeDeploySucceeded = "dev.slipway.deploy.succeeded." + SchemaVersion
	TypeDeployFailed    = "dev.slipway.deploy.failed." + SchemaVersion
)

// Event is implemented by every payload of this package.
type Event interface {
	// EventType is the CloudEvents type (ce-type).
	EventType() string
	// Subject is the NATS subject the event is published on.
	Subject() string
	// DedupKey is the deterministic id of the event (ce-id and Nats-Msg-Id):
	// the same step on the same commit always has the same key.
	DedupKey() string
	// CESubject is the CloudEvents subject (ce-subject): what the event is about.
	CESubject() string
}

// Repo identifies the user's repository on its git host.
type Repo struct {
	// Forge is the git host kind: "github", "gitea", ...
	Forge string `json:"forge"`
	// FullName is "owner/name" as the host spells it.
	FullName string `json:"full_name"`
	// CloneURL is where the builder fetches the source; credentials are stripped.
	CloneURL string `json:"clone_url"`
	// DefaultBranch is the branch staging follows, usually "main".
	DefaultBranch string `json:"default_branch"`
}

// PushReceived is a verified push to a branch, normalised from any git host.
type PushReceived struct {
	Repo       Repo      `json:"repo"`
	Ref        string    `json:"ref"`
	Branch     string    `json:"branch"`
	Before     string    `json:"before"`
	After      string    `json:"after"`
	Forced     bool      `json:"forced"`
	Pusher     string    `json:"pusher,omitempty"`
	Message    string    `json:"message,omitempty"`
	DeliveryID string    `json:"delivery_id,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	// Created is true when the push created the branch.
	Created bool `json:"created,omitempty"`
	// Commits are the pushed commits, oldest first, as far as the host
	// listed them (hosts cap the list, GitLab at 20); CommitCount is how many
	// were pushed when the host says, otherwise len(Commits).
	Commits     []Commit `json:"commits,omitempty"`
	CommitCount int      `json:"commit_count,omitempty"`
}

// ServiceSpec is one service of the user's monorepo, as slipway.yaml declares it
// at a given commit.
type ServiceSpec struct {
	Name       string            `json:"name"`
	Context    string            `json:"context"`
	Dockerfile string            `json:"dockerfile"`
	Port       int               `json:"port"`
	HealthPath string            `json:"health_path"`
	Env        map[string]string `json:"env,omitempty"`
	// Secrets name the secrets of the environment (slipway secret set)
	// the containers get as environment variables. Only names travel in
	// events; the deployer opens the values at deploy time.
	Secrets []string `json:"secrets,omitempty"`
	// Replicas is how many containers run the service; 0 means one. An
	// environment of slipway.yaml sets it.
	Replicas int `json:"replicas,omitempty"`
	// Hosts are host names the proxy routes to the service besides
	// "<service>.<env>.<repo>.<domain>". An environment of slipway.yaml sets
	// them; the operator grants which a repository may claim.
	Hosts []string `json:"hosts,omitempty"`
	// Tasks run to completion from the service's new image before the
	// commit starts in an environment (a migration), once per environment
	// and commit.
	Tasks []Task `json:"tasks,omitempty"`
	// Network is true when the service's RUN steps need the network (to
	// download dependencies); without it they run with none.
	Network bool `json:"network,omitempty"`
	// Resources are what each container of the service may use; zero
	// fields take the operator's defaults.
	Resources Resources `json:"resources,omitzero"`
	// User is the user the containers run as ("1000", "1000:1000",
	// "app"); empty keeps the image's USER.
	User string `json:"user,omitempty"`
	// Inputs, when set, are the paths inside the context (relative to the
	// repository's root) the image depends on: its build key is computed
	// from them and its Dockerfile instead of the whole context.
	Inputs []string `json:"inputs,omitempty"`
}

// Resources bound what one container of a service may use. slipway.yaml
// sets them; the deployer refuses a value above the operator's maximum.
type Resources struct {
	// Memory is the memory limit in bytes (swap included).
	Memory int64 `json:"memory,omitempty"`
	// Pids is the most processes and threads the container may have.
	Pids int64 `json:"pids,omitempty"`
	// CPUs is the CPU time the container may use, in CPUs (1.5 is one
	// and a half).
	CPUs float64 `json:"cpus,omitempty"`
}

// BuildRequested asks for one service of one commit to be built. Builders share
// these: the services of a commit build in parallel.
type BuildRequested struct {
	Repo    Repo        `json:"repo"`
	Commit  string      `json:"commit"`
	Branch  string      `json:"branch"`
	Service ServiceSpec `json:"service"`
	// Force, when set, is the nonce of an operator's `slipway build -force`:
	// the service is solved again even when an image of its build key
	// exists, as a step of its own (its keys end in the nonce).
	Force string `json:"force,omitempty"`
}

// BuildSucceeded records one service image pushed to the registry.
type BuildSucceeded struct {
	Repo    Repo   `json:"repo"`
	Commit  string `json:"commit"`
	Branch  string `json:"branch"`
	Service string `json:"service"`
	Image   string `json:"image"`
	Digest  string `json:"digest"`
	// Cached is true when the image already existed for this commit and no
	// solve ran.
	Cached bool `json:"cached,omitempty"`
	// ReusedFrom is the commit whose image of the same build key was
	// tagged for this commit instead of solving; empty after a solve.
	ReusedFrom string `json:"reused_from,omitempty"`
	// Force is the nonce of the forced rebuild that built it, if any.
	Force string `json:"force,omitempty"`
	// StartedAt is when the solve began, Duration how long it took (zero
	// for a cached image, and in events of earlier versions).
	StartedAt time.Time     `json:"started_at,omitzero"`
	Duration  time.Duration `json:"duration_ns,omitempty"`
}

// BuildFailed records a permanent build failure of one service, or of the whole
// commit when Service is empty (a bad slipway.yaml, a commit that cannot be
// fetched).
type BuildFailed struct {
	Repo    Repo   `json:"repo"`
	Commit  string `json:"commit"`
	Branch  string `json:"branch"`
	Service string `json:"service,omitempty"`
	Reason  string `json:"reason"`
	// Step is the build step that failed as BuildKit names it ("[2/3] RUN
	// make"), Output its last lines (at most MaxFailedOutput, each at most
	// 512 bytes); both empty when the failure came before any step ran.
	Step   string   `json:"step,omitempty"`
	Output []string `json:"output,omitempty"`
	// StartedAt and Duration time the failed solve, as in BuildSucceeded.
	StartedAt time.Time     `json:"started_at,omitzero"`
	Duration  time.Duration `json:"duration_ns,omitempty"`
}

// MaxFailedOutput bounds the lines of output a BuildFailed carries.
const MaxFailedOutput = 10

// Image is one built service of a commit, with what it takes to run it.
type Image struct {
	Service ServiceSpec `json:"service"`
	// Ref is the tag "<registry>/<repo>/<service>:<sha>".
	Ref string `json:"ref"`
	// Digest is the manifest digest; deploys pull by digest.
	Digest string `json:"digest"`
}

// CommitBuilt is published once when every service of a commit is built.
type CommitBuilt struct {
	Repo   Repo    `json:"repo"`
	Commit string  `json:"commit"`
	Branch string  `json:"branch"`
	Images []Image `json:"images"`
	// Push is the dedup key of a force-push that moved the branch back to
	// this commit, built before; empty for a commit built after its push.
	// It makes that move a new event, whose deploys are explicit: they may
	// move an environment back to the commit.
	Push string `json:"push,omitempty"`
	// Force is the nonce of the forced rebuild (`slipway build -force`)
	// whose images these are; its deploys are new requests, automatic ones.
	Force string `json:"force,omitempty"`
}

// DeployRequested asks for a commit to be deployed to an environment.
type DeployRequested struct {
	Env    string  `json:"env"`
	Repo   Repo    `json:"repo"`
	Commit string  `json:"commit"`
	Images []Image `json:"images"`
	// Trigger is the id of the event that caused this deploy.
	Trigger string `json:"trigger"`
	// Kind is what asked for the deploy, Actor who: ActorSlipway for an
	// automatic one, the operator or the pusher otherwise (see Ask).
	Kind  DeployKind `json:"kind,omitempty"`
	Actor string     `json:"actor,omitempty"`
	// Nonce makes a deliberate deploy (release, rollback, replay, preview) a
	// new event: it is part of the id. It starts with the kind's word, for
	// people reading ids; code reads Kind.
	Nonce string `json:"nonce,omitempty"`
	// Explicit is true for a release, a rollback and a replay. Deployers
	// read Kind (see Deliberate); Explicit is still written for deployers of
	// earlier versions during an upgrade.
	Explicit bool `json:"explicit,omitempty"`
	// Target names the operator's target the environment runs on, as the
	// environment's slipway.yaml chose it (target:); "" is LocalTarget,
	// as in every request of earlier versions. The deployer checks the
	// operator's placement before it starts anything.
	Target string `json:"target,omitempty"`
	// Secrets are, by name, the least version of the secrets the services
	// reference (ServiceSpec.Secrets) this deploy must get: set by a
	// redeploy for the version it just wrote; a deployer that reads an
	// older one retries. Never a value.
	Secrets map[string]uint64 `json:"secrets,omitempty"`
	// Retain is how many releases before this one keep their containers on
	// the target for an instant rollback, as the environment's slipway.yaml
	// says (retain:); 0, as in every request of earlier versions and in a
	// rollback, is the target's default.
	Retain int `json:"retain,omitempty"`
	// Rollout is how the environment moves to Commit (slipway.yaml
	// strategy:); nil is a plain deploy. A rollback has none.
	Rollout *Rollout `json:"rollout,omitempty"`
}

// DeployResult is the record of how one deploy request ended: its Outcome
// (the one of the result event's type), and the request's Kind and Actor.
type DeployResult struct {
	Env       string        `json:"env"`
	Repo      Repo          `json:"repo"`
	Commit    string        `json:"commit"`
	Images    []Image       `json:"images"`
	Trigger   string        `json:"trigger"`
	Kind      DeployKind    `json:"kind,omitempty"`
	Actor     string        `json:"actor,omitempty"`
	Outcome   DeployOutcome `json:"outcome,omitempty"`
	Previous  string        `json:"previous,omitempty"`
	StartedAt time.Time     `json:"started_at"`
	Duration  time.Duration `json:"duration_ns"`
	Reason    string        `json:"reason,omitempty"`
	// Request is the dedup key of the DeployRequested this answers.
	Request string `json:"request"`
	// Target is the request's Target: where the deploy ran ("" is
	// LocalTarget).
	Target string `json:"target,omitempty"`
	// Secrets are, by name, the versions of the secrets the deploy gave
	// its containers. Never a value.
	Secrets map[string]uint64 `json:"secrets,omitempty"`
	// Analysis is set when a progressive rollout went back (Outcome
	// failed): an automatic rollback with its figures, or an abort.
	Analysis *Analysis `json:"analysis,omitempty"`
}

// DeploySucceeded records an environment now serving Commit.
type DeploySucceeded struct{ DeployResult }

// DeployFailed records a deploy that did not happen; the previous commit keeps
// serving.
type DeployFailed struct{ DeployResult }
