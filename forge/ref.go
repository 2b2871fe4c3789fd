package forge

import "github.com/slipway-dev/slipway/events"

// IgnoreRefEvent returns why a "create" or "delete" event of a branch or tag
// is ignored, reading ref_type ("branch" or "tag") from its JSON payload, the
// same in GitHub's and Gitea's. Slipway acts on pushes only: a new branch also
// arrives as a push, and a deleted one needs nothing done. A payload that is
// not JSON is ErrMalformed.
func IgnoreRefEvent(eventType string, payload []byte) error {
	var p struct {
		RefType string `json:"ref_type"`
	}
	if err := Decode(payload, &p); err != nil {
		return err
	}
	switch {
	case p.RefType == "tag":
		return events.Ignored(ReasonTag)
	case eventType == "delete":
		return events.Ignored(ReasonBranchDeleted)
	case eventType == "create":
		return events.Ignored(ReasonBranchCreated)
	}
	return IgnoredEvent(eventType)
}
