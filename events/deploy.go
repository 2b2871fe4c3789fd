package events

import "time"

// LocalTarget is the name of the Docker daemon beside the deployer: the
// target of every environment that names none, always configured.
const LocalTarget = "local"

// TargetName returns name, or LocalTarget when it is empty: the target a
// request or a record of it names.
func TargetName(name string) string {
	if name == "" {
		return LocalTarget
	}
	return name
}

// Deliberate reports whether the deploy was asked for deliberately (its
// Kind, or Explicit: a force-push moving a branch back is an automatic
// deploy that moves on purpose): only a deliberate deploy may move an
// environment to an older commit. Any other automatic deploy (a commit built
// on the branch an environment follows) never does.
func (e *DeployRequested) Deliberate() bool { return e.Kind.Deliberate() || e.Explicit }

// Ask records who asked for e and why: its kind, the id of the event that
// caused it and the actor. A deploy of a kind other than KindAuto gets the
// nonce kind.Nonce(suffix), so asking again with a new suffix is a new
// event; a release, a rollback and a replay are marked Explicit as well.
// It returns e.
func (e *DeployRequested) Ask(kind DeployKind, trigger, actor, suffix string) *DeployRequested {
	e.Kind, e.Trigger, e.Actor = kind, trigger, actor
	e.Nonce, e.Explicit = kind.Nonce(suffix), kind.explicit()
	return e
}

// Result returns the record of e ending with outcome, the environment
// having run previous, the deploy having started at started: e's
// environment, commit, images, trigger, kind and actor, and e's id as
// Request.
func (e *DeployRequested) Result(outcome DeployOutcome, previous string, started time.Time) DeployResult {
	return DeployResult{
		Env: e.Env, Repo: e.Repo, Commit: e.Commit, Images: e.Images, Trigger: e.Trigger,
		Kind: e.Kind, Actor: e.Actor, Outcome: outcome, Previous: previous, StartedAt: started,
		Request: e.DedupKey(), Target: e.Target,
	}
}

// Event returns the result event that records r by its outcome:
// DeploySucceeded, DeployFailed or DeploySuperseded; nil for an outcome no
// event records (OutcomeUnchanged, OutcomeUnknown).
func (r DeployResult) Event() Event {
	switch r.Outcome {
	case OutcomeSucceeded:
		return &DeploySucceeded{r}
	case OutcomeFailed:
		return &DeployFailed{r}
	case OutcomeSuperseded:
		return &DeploySuperseded{r}
	}
	return nil
}

// ResultOf returns the deploy result a result event carries, and false
// for any other event.
func ResultOf(e Event) (DeployResult, bool) {
	switch r := e.(type) {
	case *DeploySucceeded:
		return r.DeployResult, true
	case *DeployFailed:
		return r.DeployResult, true
	case *DeploySuperseded:
		return r.DeployResult, true
	}
	return DeployResult{}, false
}
