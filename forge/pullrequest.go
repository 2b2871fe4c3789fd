package forge

import (
	"fmt"

	"github.com/slipway-dev/slipway/events"
)

// PullRequest holds what a forge reads from a pull (or merge) request
// payload, before the rules shared by every host are applied by Normalise.
type PullRequest struct {
	Forge string
	// Action is one of the events.PR* actions; the forge maps its host's
	// vocabulary onto them and ignores the rest.
	Action string
	Number int
	// The repository the pull request targets.
	FullName      string
	CloneURL      string
	DefaultBranch string
	HeadSHA       string
	HeadBranch    string
	BaseBranch    string
	// The repository the head branch lives in (a fork, or the same one);
	// empty when the host does not say (a deleted fork).
	SourceFullName      string
	SourceCloneURL      string
	SourceDefaultBranch string
	Title               string
	Author              string
	MergeSHA            string
}

var prActions = map[string]bool{
	events.PROpened: true, events.PRUpdated: true, events.PRClosedMerged: true,
	events.PRClosedUnmerged: true, events.PRReopened: true,
}

// Normalise validates the pull request and returns its event. A missing
// repository, number, base branch or head commit, a commit id that is not
// lower-case hex (abbreviated ids are kept as the host sent them) or an
// unusable clone URL is ErrMalformed. Credentials are stripped from clone
// URLs.
func (p PullRequest) Normalise() (*events.PullRequestChanged, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	repo, err := NewRepo(p.Forge, p.FullName, p.CloneURL, p.DefaultBranch)
	if err != nil {
		return nil, err
	}
	var source events.Repo
	if p.SourceFullName != "" {
		if source, err = NewRepo(p.Forge, p.SourceFullName, p.SourceCloneURL, p.SourceDefaultBranch); err != nil {
			return nil, err
		}
	}
	return &events.PullRequestChanged{
		Repo:       repo,
		Action:     p.Action,
		Number:     p.Number,
		HeadSHA:    p.HeadSHA,
		HeadBranch: clip(p.HeadBranch, maxText),
		BaseBranch: clip(p.BaseBranch, maxText),
		SourceRepo: source,
		Title:      clip(p.Title, maxText),
		Author:     clip(p.Author, maxText),
		MergeSHA:   p.MergeSHA,
	}, nil
}

func (p PullRequest) validate() error {
	switch {
	case !prActions[p.Action]:
		return fmt.Errorf("%w: pull request action %.40q", ErrMalformed, p.Action)
	case p.Number <= 0:
		return fmt.Errorf("%w: pull request without a number", ErrMalformed)
	case !IsCommitID(p.HeadSHA):
		return fmt.Errorf("%w: pull request head %.80q is not a commit id", ErrMalformed, p.HeadSHA)
	case p.BaseBranch == "" || p.HeadBranch == "":
		return fmt.Errorf("%w: pull request without head or base branch", ErrMalformed)
	case p.MergeSHA != "" && !IsCommitID(p.MergeSHA):
		return fmt.Errorf("%w: pull request merge commit %.80q is not a commit id", ErrMalformed, p.MergeSHA)
	}
	if err := ValidateBranch(p.BaseBranch); err != nil {
		return fmt.Errorf("pull request base: %w", err)
	}
	if err := ValidateBranch(p.HeadBranch); err != nil {
		return fmt.Errorf("pull request head: %w", err)
	}
	return nil
}
