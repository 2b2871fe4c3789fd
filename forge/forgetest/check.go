package forgetest

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
)

// CheckResult returns an error if what a forge's parse returned breaks the
// forge contract: the error must be ignored or malformed, and an event must
// be a valid push of forge forgeName (see CheckPush).
func CheckResult(forgeName string, e events.Event, err error) error {
	if err != nil {
		if e != nil {
			return fmt.Errorf("event %#v returned with error %v", e, err)
		}
		if _, ignored := forge.IgnoredReason(err); !ignored && !errors.Is(err, forge.ErrMalformed) {
			return fmt.Errorf("error %v is neither ignored nor malformed", err)
		}
		return nil
	}
	p, ok := e.(*events.PushReceived)
	if !ok {
		return fmt.Errorf("event is %T, want *events.PushReceived", e)
	}
	return CheckPush(forgeName, p)
}

// CheckPush returns an error if p is not a valid push to a branch of forge
// forgeName.
func CheckPush(forgeName string, p *events.PushReceived) error {
	switch {
	case p == nil:
		return errors.New("nil push")
	case p.Repo.Forge != forgeName:
		return fmt.Errorf("repo.forge %q, want %q", p.Repo.Forge, forgeName)
	case p.Repo.FullName == "":
		return errors.New("empty repo.full_name")
	case !forge.IsSHA(p.After) || forge.IsZeroSHA(p.After):
		return fmt.Errorf("after %q is not a commit id", p.After)
	case p.Before != "" && !forge.IsSHA(p.Before):
		return fmt.Errorf("before %q is not a commit id", p.Before)
	case p.Branch == "" || p.Ref != "refs/heads/"+p.Branch:
		return fmt.Errorf("ref %q and branch %q disagree", p.Ref, p.Branch)
	case !p.ReceivedAt.IsZero():
		return errors.New("received_at set by the forge")
	}
	return checkCloneURL(p.Repo.CloneURL)
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
