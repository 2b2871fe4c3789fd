package events

import "strconv"

// TypePullRequest is the CloudEvents type of PullRequestChanged.
const TypePullRequest = "dev.slipway.pullrequest.changed." + SchemaVersion

// SubjectPullRequest is the subject of pull-request events; the action is the
// last token ("slipway.pullrequest.opened").
const SubjectPullRequest = "slipway.pullrequest"

// Pull-request actions, normalised across git hosts.
const (
	PROpened         = "opened"
	PRUpdated        = "updated" // new commits on the head branch
	PRClosedMerged   = "merged"
	PRClosedUnmerged = "closed"
	PRReopened       = "reopened"
)

// PullRequestChanged is a pull (or merge) request opened, updated with new
// commits, merged, closed without merging, or reopened.
type PullRequestChanged struct {
	Repo   Repo   `json:"repo"`
	Action string `json:"action"`
	Number int    `json:"number"`
	// HeadSHA is the commit at the tip of the pull request's branch.
	HeadSHA    string `json:"head_sha"`
	HeadBranch string `json:"head_branch"`
	BaseBranch string `json:"base_branch"`
	// SourceRepo is where the head branch lives; it differs from Repo for a
	// pull request from a fork.
	SourceRepo Repo   `json:"source_repo"`
	Title      string `json:"title,omitempty"`
	Author     string `json:"author,omitempty"`
	// MergeSHA is the commit the merge created on the base branch, if known.
	MergeSHA   string `json:"merge_sha,omitempty"`
	DeliveryID string `json:"delivery_id,omitempty"`
}

func (e *PullRequestChanged) EventType() string { return TypePullRequest }
func (e *PullRequestChanged) Subject() string   { return SubjectPullRequest + "." + KeyPart(e.Action) }
func (e *PullRequestChanged) CESubject() string {
	return e.Repo.FullName + "#" + itoa(e.Number) + "@" + e.HeadSHA
}

// DedupKey names the pull request, the action and the head commit: the same
// action on the same commit is one event.
func (e *PullRequestChanged) DedupKey() string {
	return "pr." + RepoKey(e.Repo.FullName) + "." + itoa(e.Number) + "." + KeyPart(e.Action) + "." + e.HeadSHA
}

func itoa(n int) string { return strconv.Itoa(n) }
