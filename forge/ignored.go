package forge

import (
	"errors"

	"github.com/slipway-dev/slipway/events"
)

// Reasons given with events.Ignored by every forge, so that receivers and
// tests can tell them apart without parsing prose.
const (
	ReasonPing           = "ping"
	ReasonBranchDeleted  = "branch deleted"
	ReasonTag            = "tags are not handled yet"
	ReasonPullRequest    = "pull requests are not handled yet"
	ReasonNotBranch      = "ref is not a branch"
	ReasonBranchCreated  = "branch created: the push event carries it"
	reasonUnhandledEvent = "event %q is not handled"
)

// IgnoredEvent returns the ignored error for an event kind the forge does not
// handle.
func IgnoredEvent(eventType string) error {
	return events.Ignored(reasonUnhandledEvent, eventType)
}

// IgnoredReason returns the reason of an *events.IgnoredError in err's chain,
// and whether there is one.
func IgnoredReason(err error) (string, bool) {
	var ig *events.IgnoredError
	if errors.As(err, &ig) {
		return ig.Reason, true
	}
	return "", false
}

// IsPing reports whether err is the ignored error of a ping delivery.
func IsPing(err error) bool {
	reason, ok := IgnoredReason(err)
	return ok && reason == ReasonPing
}
