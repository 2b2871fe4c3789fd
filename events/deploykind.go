package events

import (
	"fmt"
	"strconv"
)

// ActorSlipway is the actor of what Slipway does by itself: the automatic
// deploy of a commit built on a branch an environment follows.
const ActorSlipway = "slipway"

// DeployKind names what asked for a deploy. It travels as a field of the
// deploy request and of its result ("kind"), never inside an id; its text
// form is the word `slipway history` shows, and it starts the nonce of a
// deliberate deploy's id (Nonce).
type DeployKind uint8

// The kinds of deploy. KindUnknown is the zero value, a kind not set:
// Envelope.Decode never returns it for a deploy event (see legacy.go).
const (
	KindUnknown  DeployKind = iota
	KindAuto                // a commit built on a branch an environment follows
	KindRelease             // a pin file changed on the default branch (a release merged), or an operator asked for a release (ReleaseRequested)
	KindRollback            // an operator went back to a commit that ran healthy (slipway rollback)
	KindReplay              // an operator applied a recorded deploy again (slipway replay)
	KindPreview             // the preview environment of a pull request
	// KindRedeploy: an operator changed a secret and deployed the running
	// commit again with it (slipway secret set -redeploy). It never moves
	// an environment back: a redeploy of a commit the environment moved
	// past is superseded, as an automatic deploy is.
	KindRedeploy
)

var kindNames = [...]string{KindUnknown: "", KindAuto: "auto", KindRelease: "release", KindRollback: "rollback",
	KindReplay: "replay", KindPreview: "preview", KindRedeploy: "redeploy"}

// String returns the kind's word, "" for KindUnknown.
func (k DeployKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "DeployKind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText implements encoding.TextMarshaler: the kind's word.
func (k DeployKind) MarshalText() ([]byte, error) {
	if int(k) >= len(kindNames) {
		return nil, fmt.Errorf("marshal %s: no such deploy kind", k)
	}
	return []byte(kindNames[k]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler. An unknown word is an
// error; "" is KindUnknown.
func (k *DeployKind) UnmarshalText(b []byte) error {
	v, ok := ParseDeployKind(string(b))
	if !ok {
		return fmt.Errorf("unknown deploy kind %q", clipID(string(b)))
	}
	*k = v
	return nil
}

// ParseDeployKind returns the kind named s, and false for a word that
// names none.
func ParseDeployKind(s string) (DeployKind, bool) {
	for k, name := range kindNames {
		if name == s {
			return DeployKind(k), true
		}
	}
	return KindUnknown, false
}

// Deliberate reports whether a deploy of kind k is asked for deliberately
// (a release, a rollback, a replay, a preview): only such a deploy may move
// an environment to an older commit. An automatic deploy never does.
func (k DeployKind) Deliberate() bool {
	return k == KindRelease || k == KindRollback || k == KindReplay || k == KindPreview
}

// explicit reports whether a person or a release asked for a deploy of kind
// k, as the Explicit field of DeployRequested has said since before kinds.
func (k DeployKind) explicit() bool {
	return k == KindRelease || k == KindRollback || k == KindReplay
}

// Nonce returns the nonce of a deploy of kind k made unique by suffix,
// "<kind>-<suffix>", or "" for an automatic deploy (or an empty suffix),
// whose id is the commit's alone.
func (k DeployKind) Nonce(suffix string) string {
	if k == KindAuto || k == KindUnknown || suffix == "" {
		return ""
	}
	return k.String() + "-" + suffix
}

// DeployOutcome is how a deploy request ended. It is a field of the result
// events (each result type has one outcome) and of the deploy claim's done
// record; its text form is the word `slipway history` and `slipway
// rollback` show.
type DeployOutcome uint8

// The outcomes of a deploy request. OutcomeUnknown is the zero value.
const (
	OutcomeUnknown    DeployOutcome = iota
	OutcomeSucceeded                // the environment now runs the commit (DeploySucceeded)
	OutcomeFailed                   // nothing changed; the previous commit keeps serving (DeployFailed)
	OutcomeSuperseded               // skipped: a later request or a newer commit won (DeploySuperseded)
	OutcomeUnchanged                // the environment already ran the request's images; no result event
	OutcomeBlocked                  // an automatic deploy a failed check stopped (DeployGated)
	OutcomeHeld                     // an automatic deploy a freeze keeps until it ends (DeployGated)
)

var outcomeNames = [...]string{OutcomeUnknown: "", OutcomeSucceeded: "succeeded", OutcomeFailed: "failed",
	OutcomeSuperseded: "superseded", OutcomeUnchanged: "unchanged",
	OutcomeBlocked: "blocked", OutcomeHeld: "held"}

// legacySucceeded is how deploy claims of earlier versions spelled
// OutcomeSucceeded; it is read, never written.
const legacySucceeded = "deployed"

// String returns the outcome's word, "" for OutcomeUnknown.
func (o DeployOutcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "DeployOutcome(" + strconv.Itoa(int(o)) + ")"
}

// MarshalText implements encoding.TextMarshaler: the outcome's word.
func (o DeployOutcome) MarshalText() ([]byte, error) {
	if int(o) >= len(outcomeNames) {
		return nil, fmt.Errorf("marshal %s: no such deploy outcome", o)
	}
	return []byte(outcomeNames[o]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler. An unknown word is an
// error; "" is OutcomeUnknown, and "deployed", the word of earlier
// versions, is OutcomeSucceeded.
func (o *DeployOutcome) UnmarshalText(b []byte) error {
	v, ok := ParseDeployOutcome(string(b))
	if !ok {
		return fmt.Errorf("unknown deploy outcome %q", clipID(string(b)))
	}
	*o = v
	return nil
}

// ParseDeployOutcome returns the outcome named s, and false for a word
// that names none.
func ParseDeployOutcome(s string) (DeployOutcome, bool) {
	if s == legacySucceeded {
		return OutcomeSucceeded, true
	}
	for o, name := range outcomeNames {
		if name == s {
			return DeployOutcome(o), true
		}
	}
	return OutcomeUnknown, false
}
