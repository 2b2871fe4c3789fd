package forgetest

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
)

// CheckResult returns an error if what a forge's parse returned breaks the
// forge contract: an error must be ignored or malformed and come without
// events; otherwise there is at least one event and each is valid (see
// CheckEvent).
func CheckResult(forgeName string, evs []events.Event, err error) error {
	if err != nil {
		if len(evs) != 0 {
			return fmt.Errorf("%d events returned with error %w", len(evs), err)
		}
		if _, ignored := forge.IgnoredReason(err); !ignored && !errors.Is(err, forge.ErrMalformed) {
			return fmt.Errorf("error %w is neither ignored nor malformed", err)
		}
		return nil
	}
	if len(evs) == 0 {
		return errors.New("no event and no error")
	}
	for _, e := range evs {
		if err := CheckEvent(forgeName, e); err != nil {
			return fmt.Errorf("%T: %w", e, err)
		}
	}
	return nil
}

// CheckEvent returns an error if e is not a valid event of forge forgeName.
func CheckEvent(forgeName string, e events.Event) error {
	switch e := e.(type) {
	case *events.PushReceived:
		return CheckPush(forgeName, e)
	case *events.BranchDeleted:
		return errors.Join(checkRepo(forgeName, e.Repo), checkRef(e.Ref, forge.BranchPrefix, e.Branch), checkOptionalSHA("before", e.Before))
	case *events.TagPushed:
		return errors.Join(checkRepo(forgeName, e.Repo), checkRef(e.Ref, forge.TagPrefix, e.Tag),
			checkSHA("after", e.After), checkSHA("commit", e.Commit), checkOptionalSHA("before", e.Before))
	case *events.TagDeleted:
		return errors.Join(checkRepo(forgeName, e.Repo), checkRef(e.Ref, forge.TagPrefix, e.Tag), checkOptionalSHA("before", e.Before))
	case *events.PullRequestChanged:
		return checkPullRequest(forgeName, e)
	case nil:
		return errors.New("nil event")
	}
	return fmt.Errorf("unexpected event type %T", e)
}

// CheckPush returns an error if p is not a valid push to a branch of forge
// forgeName.
func CheckPush(forgeName string, p *events.PushReceived) error {
	if p == nil {
		return errors.New("nil push")
	}
	errs := []error{checkRepo(forgeName, p.Repo), checkRef(p.Ref, forge.BranchPrefix, p.Branch), checkSHA("after", p.After)}
	if p.Before != "" && !forge.IsSHA(p.Before) {
		errs = append(errs, fmt.Errorf("before %q is not a commit id", p.Before))
	}
	if !p.ReceivedAt.IsZero() {
		errs = append(errs, errors.New("received_at set by the forge"))
	}
	if forge.IsZeroSHA(p.Before) && !p.Created {
		errs = append(errs, errors.New("zero before but not created"))
	}
	if len(p.Commits) > forge.MaxCommits || p.CommitCount < len(p.Commits) {
		errs = append(errs, fmt.Errorf("%d commits listed, count %d", len(p.Commits), p.CommitCount))
	}
	for _, c := range p.Commits {
		errs = append(errs, checkSHA("commit", c.ID))
	}
	return errors.Join(errs...)
}

func checkPullRequest(forgeName string, e *events.PullRequestChanged) error {
	errs := []error{checkRepo(forgeName, e.Repo)}
	switch e.Action {
	case events.PROpened, events.PRUpdated, events.PRClosedMerged, events.PRClosedUnmerged, events.PRReopened:
	default:
		errs = append(errs, fmt.Errorf("action %q", e.Action))
	}
	if e.Number <= 0 {
		errs = append(errs, fmt.Errorf("number %d", e.Number))
	}
	if !forge.IsCommitID(e.HeadSHA) {
		errs = append(errs, fmt.Errorf("head %q is not a commit id", e.HeadSHA))
	}
	if e.BaseBranch == "" || e.HeadBranch == "" {
		errs = append(errs, errors.New("empty head or base branch"))
	}
	if e.SourceRepo != (events.Repo{}) {
		errs = append(errs, checkRepo(forgeName, e.SourceRepo))
	}
	return errors.Join(errs...)
}

func checkRepo(forgeName string, r events.Repo) error {
	switch {
	case r.Forge != forgeName:
		return fmt.Errorf("repo.forge %q, want %q", r.Forge, forgeName)
	case r.FullName == "":
		return errors.New("empty repo.full_name")
	case strings.HasPrefix(r.DefaultBranch, forge.BranchPrefix):
		return fmt.Errorf("default branch %q is a ref", r.DefaultBranch)
	}
	return checkCloneURL(r.CloneURL)
}

func checkRef(ref, prefix, name string) error {
	if name == "" || ref != prefix+name {
		return fmt.Errorf("ref %q and name %q disagree", ref, name)
	}
	return nil
}

func checkSHA(field, sha string) error {
	if !forge.IsSHA(sha) || forge.IsZeroSHA(sha) {
		return fmt.Errorf("%s %q is not a commit id", field, sha)
	}
	return nil
}

func checkOptionalSHA(field, sha string) error {
	if sha == "" {
		return nil
	}
	return checkSHA(field, sha)
}

func checkCloneURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("clone url %q: %w", raw, err)
	case u.User != nil || u.RawQuery != "":
		return fmt.Errorf("clone url %q carries credentials", raw)
	case u.Host == "":
		return fmt.Errorf("clone url %q has no host", raw)
	}
	return nil
}

// Kind names the outcome of a parse in one word for table tests: "ignored:
// <reason>", a pull request's action, a push's event type (with " created"
// when it creates the branch), another event's type, or the error.
func Kind(evs []events.Event, err error) string {
	if reason, ok := forge.IgnoredReason(err); ok {
		return "ignored: " + reason
	}
	if err != nil || len(evs) != 1 {
		return fmt.Sprintf("error %v or %d events", err, len(evs))
	}
	switch e := evs[0].(type) {
	case *events.PullRequestChanged:
		return e.Action
	case *events.PushReceived:
		if e.Created {
			return e.EventType() + " created"
		}
	}
	return evs[0].EventType()
}
