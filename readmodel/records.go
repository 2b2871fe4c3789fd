package readmodel

import (
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/release"
)

// applied is the stream sequence of the last event folded into a record:
// an event at or below it changes nothing, which makes the projector
// idempotent under redelivery.
type applied struct {
	Seq uint64 `json:"seq"`
}

func (a *applied) at() *uint64 { return &a.Seq }

// Repo is one repository that pushed to Slipway.
type Repo struct {
	Name string `json:"name"`
	// Commits is how many commits were recorded (pushes and builds).
	Commits int `json:"commits"`
	applied
}

// BuildResult is where a service's build is.
type BuildResult string

// The results of a build.
const (
	BuildRequested BuildResult = "requested"
	BuildSucceeded BuildResult = "succeeded"
	BuildFailed    BuildResult = "failed"
)

// Build is the build of one service of a commit.
type Build struct {
	Service string      `json:"service"`
	Result  BuildResult `json:"result"`
	// Reason, Step and Output explain a failure: Slipway's message, the
	// failing step and its last lines.
	Reason string   `json:"reason,omitempty"`
	Step   string   `json:"step,omitempty"`
	Output []string `json:"output,omitempty"`
	Image  string   `json:"image,omitempty"`
	Digest string   `json:"digest,omitempty"`
	Cached bool     `json:"cached,omitempty"`
	// RequestedAt is when the build was requested (the event's time),
	// StartedAt and Duration time the solve.
	RequestedAt time.Time     `json:"requested_at,omitzero"`
	StartedAt   time.Time     `json:"started_at,omitzero"`
	Duration    time.Duration `json:"duration_ns,omitempty"`
	// Log is the subject of the build's log in stream SLIPWAY_LOGS
	// (package buildlog).
	Log string `json:"log,omitempty"`
}

// Commit is one commit of a repository and the builds of its services.
type Commit struct {
	Repo     string    `json:"repo"`
	SHA      string    `json:"sha"`
	Branch   string    `json:"branch,omitempty"`
	Pusher   string    `json:"pusher,omitempty"`
	Message  string    `json:"message,omitempty"`
	PushedAt time.Time `json:"pushed_at,omitzero"`
	// Builds are by service name.
	Builds map[string]*Build `json:"builds,omitempty"`
	// Built is true once every service built (commit built).
	Built bool `json:"built,omitempty"`
	// Failed is the reason the commit as a whole failed (a bad slipway.yaml).
	Failed string `json:"failed,omitempty"`
	applied
}

// Health is how an environment is, after the Argo CD vocabulary.
type Health string

// The health of an environment.
const (
	// HealthProgressing: a deploy was requested and has no result yet.
	HealthProgressing Health = "progressing"
	// HealthHealthy: the last deploy succeeded.
	HealthHealthy Health = "healthy"
	// HealthDegraded: the last deploy failed; what ran before keeps serving.
	HealthDegraded Health = "degraded"
	// HealthRemoved: a preview that was removed.
	HealthRemoved Health = "removed"
)

// Env is one environment of a repository.
type Env struct {
	Repo string `json:"repo"`
	Env  string `json:"env"`
	// Commit is the commit running, Previous the one before it.
	Commit   string `json:"commit,omitempty"`
	Previous string `json:"previous,omitempty"`
	Health   Health `json:"health"`
	// Target is where it runs ("" is local: events.TargetName).
	Target string `json:"target,omitempty"`
	// Images are those the commit running was deployed with.
	Images []events.Image `json:"images,omitempty"`
	// Preview is true for a pull request's preview.
	Preview bool `json:"preview,omitempty"`
	// Pending is the id of the last deploy request with no result yet.
	Pending string `json:"pending,omitempty"`
	// Last is the last deploy result, nil before the first.
	Last *release.Deploy `json:"last,omitempty"`
	// Deploys counts the deploy results recorded.
	Deploys int `json:"deploys"`
	// Plan is the pull request number of the last release plan, 0 for none.
	Plan int `json:"plan,omitempty"`
	// UpdatedAt is the time of the last event folded in.
	UpdatedAt time.Time `json:"updated_at"`
	applied
}

// ID returns the environment's identity.
func (e Env) ID() events.EnvID { return events.EnvID{Repo: e.Repo, Env: e.Env} }

// Plan is a release plan of an environment, with where it is stored.
type Plan struct {
	events.ReleasePlanned
	// ID and Seq name its event.
	ID  string `json:"id"`
	Seq uint64 `json:"stream_seq"`
	applied
}

// Stored names an event in stream SLIPWAY: the last one with an id.
type Stored struct {
	ID      string    `json:"id"`
	Seq     uint64    `json:"stream_seq"`
	Subject string    `json:"subject"`
	Time    time.Time `json:"time"`
	applied
}

// page is one page of a list: the items of index pageSize*n to
// pageSize*(n+1)-1.
type page[T any] struct {
	Items []T `json:"items"`
	applied
}

// pageSize is the number of items of a page: reading the last items of a
// list reads one or two pages, whatever the length of the list.
const pageSize = 64
