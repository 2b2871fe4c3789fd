package forge

import (
	"errors"

	"github.com/slipway-dev/slipway/events"
)

// Reasons given with events.Ignored by every forge, so that receivers and
// tests can tell them apart without parsing prose.
const (
	// ReasonPing is a host checking that the hook works; answered 200.
	ReasonPing = "ping"
	// ReasonNotBranch is a push to a ref that is neither a branch nor a
	// tag (refs/notes/..., refs/pull/...).
	ReasonNotBranch = "ref is neither a branch nor a tag"
	// ReasonCarriedByPush is a create or delete event whose change also
	// arrives as a push event, which is the one acted on.
	ReasonCarriedByPush = "create and delete events are carried by the push event"
	// ReasonNoNewCommits is a pull request update that changed no code
	// (GitLab's update without oldrev: a title, label or assignee change).
	ReasonNoNewCommits = "pull request updated without new commits"
	// ReasonNoHeadCommit is a pull request event that does not name its
	// head commit (Gogs).
	ReasonNoHeadCommit = "pull request event without a head commit"

	reasonUnhandledEvent  = "event %q is not handled"
	reasonUnhandledAction = "pull request action %q is not handled"
)

// IgnoredEvent returns the ignored error for an event kind the forge does not
// handle.
func IgnoredEvent(eventType string) error {
	return events.Ignored(reasonUnhandledEvent, clip(eventType, 64))
}

// IgnoredAction returns the ignored error for a pull request action that is
// not one of opened, updated with new commits, merged, closed or reopened
// (labelled, edited, approved, ...).
func IgnoredAction(action string) error {
	return events.Ignored(reasonUnhandledAction, clip(action, 64))
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
