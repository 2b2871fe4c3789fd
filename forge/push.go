package forge

import (
	"fmt"
	"strings"

	"github.com/slipway-dev/slipway/events"
)

// Git ref prefixes.
const (
	BranchPrefix = "refs/heads/"
	TagPrefix    = "refs/tags/"
)

// Limits on what a push carries into its event, so that one delivery (up to
// the receiver's body limit) cannot make an event JetStream refuses.
const (
	// MaxCommits is how many commits an event lists; the newest are kept.
	MaxCommits = 20
	// MaxMessage is the longest commit message kept, in bytes.
	MaxMessage = 16 << 10
	maxText    = 1 << 10
)

// Push holds what a forge reads about one ref of a push payload, before the
// rules shared by every host are applied by Normalise.
type Push struct {
	Forge         string
	FullName      string
	CloneURL      string
	DefaultBranch string
	Ref           string
	Before        string
	// After is the ref's new value; "" or all zeros when it was deleted.
	After string
	// Commit is the commit an annotated tag points to, when the host tells
	// it apart from After (GitLab's checkout_sha, GitHub's head_commit).
	Commit string
	// Created is the host's own creation flag; an all-zero Before also
	// means the ref was created.
	Created bool
	// Deleted is the host's own deletion flag; an empty or all-zero After
	// also means the ref was deleted.
	Deleted bool
	Forced  bool
	Pusher  string
	Message string
	// Commits are the pushed commits, oldest first.
	Commits []events.Commit
	// CommitCount is the number of commits pushed when the host says more
	// than it lists (GitLab's total_commits_count); 0 means len(Commits).
	CommitCount int
}

// Normalise applies the rules every forge shares and returns the event: a
// push to a branch is an *events.PushReceived (Created when the branch is
// new), a deleted branch an *events.BranchDeleted, a tag pushed or deleted an
// *events.TagPushed or *events.TagDeleted. Any other ref is ignored
// (ReasonNotBranch). A missing repository or ref, a branch or tag git would
// refuse (ValidateRef), a commit id that is not lower-case hex or an
// unusable clone URL is ErrMalformed. Credentials are
// stripped from the clone URL; commit lists and messages are capped.
func (p Push) Normalise() (events.Event, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	repo, err := NewRepo(p.Forge, p.FullName, p.CloneURL, p.DefaultBranch)
	if err != nil {
		return nil, err
	}
	deleted := p.Deleted || p.After == "" || IsZeroSHA(p.After)
	before := p.Before
	if IsZeroSHA(before) {
		before = ""
	}
	if tag, ok := strings.CutPrefix(p.Ref, TagPrefix); ok && tag != "" {
		if err := ValidateRef(p.Ref); err != nil {
			return nil, err
		}
		if deleted {
			return &events.TagDeleted{Repo: repo, Ref: p.Ref, Tag: tag, Before: before, Pusher: clip(p.Pusher, maxText)}, nil
		}
		return p.tagPushed(repo, tag, before), nil
	}
	branch, ok := strings.CutPrefix(p.Ref, BranchPrefix)
	switch {
	case !ok || branch == "":
		return nil, events.Ignored(ReasonNotBranch)
	case ValidateRef(p.Ref) != nil:
		return nil, ValidateRef(p.Ref)
	case deleted:
		return &events.BranchDeleted{Repo: repo, Ref: p.Ref, Branch: branch, Before: before, Pusher: clip(p.Pusher, maxText)}, nil
	}
	return p.pushReceived(repo, branch), nil
}

func (p Push) tagPushed(repo events.Repo, tag, before string) *events.TagPushed {
	return &events.TagPushed{
		Repo:    repo,
		Ref:     p.Ref,
		Tag:     tag,
		Before:  before,
		After:   p.After,
		Commit:  firstNonZero(p.Commit, p.After),
		Created: p.Created || before == "",
		Pusher:  clip(p.Pusher, maxText),
	}
}

func (p Push) pushReceived(repo events.Repo, branch string) *events.PushReceived {
	commits := p.Commits
	if len(commits) > MaxCommits {
		commits = commits[len(commits)-MaxCommits:]
	}
	var list []events.Commit
	for _, c := range commits {
		list = append(list, events.Commit{ID: c.ID, Message: clip(c.Message, maxText), Author: clip(c.Author, maxText)})
	}
	return &events.PushReceived{
		Repo:        repo,
		Ref:         p.Ref,
		Branch:      branch,
		Before:      p.Before,
		After:       p.After,
		Forced:      p.Forced,
		Pusher:      clip(p.Pusher, maxText),
		Message:     clip(p.Message, MaxMessage),
		Created:     p.Created || IsZeroSHA(p.Before),
		Commits:     list,
		CommitCount: max(p.CommitCount, len(p.Commits)),
	}
}

func (p Push) validate() error {
	switch {
	case p.FullName == "":
		return fmt.Errorf("%w: push without repository name", ErrMalformed)
	case p.Ref == "":
		return fmt.Errorf("%w: push without ref", ErrMalformed)
	case p.After != "" && !IsSHA(p.After):
		return fmt.Errorf("%w: push after %.80q is not a commit id", ErrMalformed, p.After)
	case p.After == "" && !p.Deleted:
		return fmt.Errorf("%w: push without after", ErrMalformed)
	case p.Before != "" && !IsSHA(p.Before):
		return fmt.Errorf("%w: push before %.80q is not a commit id", ErrMalformed, p.Before)
	case p.Commit != "" && !IsSHA(p.Commit):
		return fmt.Errorf("%w: push commit %.80q is not a commit id", ErrMalformed, p.Commit)
	}
	for _, c := range p.Commits {
		if !IsSHA(c.ID) {
			return fmt.Errorf("%w: pushed commit %.80q is not a commit id", ErrMalformed, c.ID)
		}
	}
	return nil
}

func firstNonZero(shas ...string) string {
	for _, s := range shas {
		if s != "" && !IsZeroSHA(s) {
			return s
		}
	}
	return ""
}

// IsSHA reports whether s is a full lower-case hex git object id: 40 digits
// (SHA-1) or 64 (SHA-256 repositories).
func IsSHA(s string) bool {
	return (len(s) == 40 || len(s) == 64) && isLowerHex(s)
}

// IsCommitID reports whether s is a full or abbreviated (at least 7 digits)
// lower-case hex object id. Bitbucket Cloud names pull request commits by
// their first 12 digits only.
func IsCommitID(s string) bool {
	return len(s) >= 7 && len(s) <= 64 && isLowerHex(s)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// IsZeroSHA reports whether s is an object id made only of zeros, which hosts
// send as the "after" of a deleted ref and the "before" of a new one.
func IsZeroSHA(s string) bool {
	return s != "" && strings.Trim(s, "0") == ""
}
