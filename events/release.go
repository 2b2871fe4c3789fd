package events

import (
	"strconv"
	"time"
)

// CloudEvents types of the release and preview events.
const (
	TypeReleasePlanned = "dev.slipway.release.planned." + SchemaVersion
	TypePreviewRemoved = "dev.slipway.preview.removed." + SchemaVersion
)

// Subject prefixes of the release and preview events; the repository and
// the environment are the last tokens (EnvSubject).
const (
	SubjectReleasePlanned = "slipway.release.planned"
	SubjectPreviewRemoved = "slipway.preview.removed"
)

// Changes of one service in a release plan.
const (
	ChangeAdded     = "added"
	ChangeRemoved   = "removed"
	ChangeUpdated   = "updated"
	ChangeUnchanged = "unchanged"
)

// ServiceChange is what a release does to one service: the digest the
// environment runs now and the one it will run.
type ServiceChange struct {
	Service string `json:"service"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	Change  string `json:"change"`
}

// ReleasePlanned is the plan of an open release pull request: what merging
// it changes in the environment its pin file names. It is computed again
// whenever the pull request is updated; the last one for an environment is
// the current plan.
type ReleasePlanned struct {
	Env    string `json:"env"`
	Repo   Repo   `json:"repo"`
	Number int    `json:"number"`
	// HeadSHA is the pull request's head commit, which changes the pin file.
	HeadSHA string `json:"head_sha"`
	// From is the commit the environment runs now ("" for a first release),
	// To the pinned commit.
	From     string          `json:"from,omitempty"`
	To       string          `json:"to"`
	Services []ServiceChange `json:"services"`
	// Commits are the commits From..To, newest first, at most a page of
	// them; CommitCount is how many there are.
	Commits     []Commit `json:"commits,omitempty"`
	CommitCount int      `json:"commit_count"`
	// Backwards is true when To precedes From: the release is a rollback.
	Backwards bool `json:"backwards,omitempty"`
	// Problems are why merging would not deploy To (never built, never
	// healthy on staging); empty when the release is ready.
	Problems []string `json:"problems,omitempty"`
	// Provision are the plans of the environment's provisioning steps at
	// To, in declaration order.
	Provision []ProvisionPlan `json:"provision,omitempty"`
	PlannedAt time.Time       `json:"planned_at"`
}

func (e *ReleasePlanned) EventType() string { return TypeReleasePlanned }
func (e *ReleasePlanned) Subject() string {
	return EnvSubject(SubjectReleasePlanned, e.Repo.FullName, e.Env)
}
func (e *ReleasePlanned) CESubject() string { return e.Env + "@" + e.To }

// DedupKey names the environment, the pull request and its head: one plan
// per update of the pull request.
func (e *ReleasePlanned) DedupKey() string {
	return "plan." + KeyPart(e.Env) + "." + RepoKey(e.Repo.FullName) + "." + strconv.Itoa(e.Number) + "." + e.HeadSHA
}

// Reasons a preview is removed.
const (
	RemovedClosed  = "closed"  // the pull request closed without merging
	RemovedMerged  = "merged"  // the pull request merged
	RemovedMissed  = "missed"  // found closed by the reconcile: a webhook was missed
	RemovedExpired = "expired" // not updated for longer than its ttl
)

// PreviewRemoved records that the preview environment of a pull request
// and everything of it were removed.
type PreviewRemoved struct {
	Env     string `json:"env"`
	Repo    Repo   `json:"repo"`
	Number  int    `json:"number"`
	HeadSHA string `json:"head_sha,omitempty"`
	// Generation counts the openings of the pull request: a reopened one
	// gets a new preview.
	Generation int       `json:"generation"`
	Reason     string    `json:"reason"`
	RemovedAt  time.Time `json:"removed_at"`
}

func (e *PreviewRemoved) EventType() string { return TypePreviewRemoved }
func (e *PreviewRemoved) Subject() string {
	return EnvSubject(SubjectPreviewRemoved, e.Repo.FullName, e.Env)
}
func (e *PreviewRemoved) CESubject() string {
	return e.Repo.FullName + "#" + strconv.Itoa(e.Number)
}

// DedupKey names the preview and its generation: each preview is removed
// once.
func (e *PreviewRemoved) DedupKey() string {
	return "preview." + RepoKey(e.Repo.FullName) + "." + strconv.Itoa(e.Number) + "." + strconv.Itoa(e.Generation) + ".removed"
}
