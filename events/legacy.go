package events

import (
	"fmt"
	"strings"
)

// completeDeploy fills in what a deploy event stored by an earlier version
// lacks, so that every decoded deploy event has a Kind and every result an
// Outcome: the kind of a request from its nonce, the kind of a result from
// its request's id (the one place an id is read, for events written before
// kinds were fields), the outcome from the event's type. A result whose
// outcome is not its type's is refused.
func completeDeploy(e Event) error {
	switch ev := e.(type) {
	case *DeployRequested:
		if ev.Kind == KindUnknown {
			ev.Kind = legacyKindOfNonce(ev.Nonce)
		}
	case *DeploySucceeded:
		return ev.complete(OutcomeSucceeded)
	case *DeployFailed:
		return ev.complete(OutcomeFailed)
	case *DeploySuperseded:
		return ev.complete(OutcomeSuperseded)
	}
	return nil
}

func (r *DeployResult) complete(want DeployOutcome) error {
	switch r.Outcome {
	case OutcomeUnknown:
		r.Outcome = want
	case want:
	default:
		return fmt.Errorf("a %s result with the outcome %s", want, r.Outcome)
	}
	if r.Kind == KindUnknown {
		r.Kind = legacyKindOfNonce(legacyNonceOf(r.Request, r.Commit))
	}
	return nil
}

// legacyKindOfNonce is the kind earlier versions wrote as the prefix of a
// deploy's nonce ("rollback-1a2b3c"); no nonce, or one of no kind, is
// KindAuto.
func legacyKindOfNonce(nonce string) DeployKind {
	word, _, ok := strings.Cut(nonce, "-")
	if k, known := ParseDeployKind(word); ok && known && k.Deliberate() {
		return k
	}
	return KindAuto
}

// legacyNonceOf returns the nonce in the id of a deploy request written
// before kinds were fields, "deploy.<repo>.<env>.<sha>.<nonce>" or, before
// environments were scoped by repository, "deploy.<env>.<sha>.<nonce>"; ""
// when there is none. The nonce is the token after the commit (the
// result's, or else the first full commit id).
func legacyNonceOf(request, commit string) string {
	parts := strings.Split(request, ".")
	if len(parts) < 4 || parts[0] != "deploy" {
		return ""
	}
	for i := 2; i < len(parts)-1; i++ {
		if parts[i] == commit || (commit == "" && CheckSHA(parts[i]) == nil) {
			return parts[i+1]
		}
	}
	return ""
}
