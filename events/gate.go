package events

// TypeDeployGated is the CloudEvents type of DeployGated.
const TypeDeployGated = "dev.slipway.deploy.gated." + SchemaVersion

// SubjectDeployGated is the subject prefix of automatic deploys a gate
// stopped; the repository and the environment are the last tokens
// (EnvSubject).
const SubjectDeployGated = "slipway.deploy.gated"

// DeployGated records an automatic deploy a gate did not let through: a
// failed check blocks it for good (OutcomeBlocked), a freeze holds it until
// the environment thaws (OutcomeHeld). Gate names the gate ("check/unit",
// "freeze"), Reason says why; the environment did not change.
type DeployGated struct {
	DeployResult
	Gate string `json:"gate"`
}

func (e *DeployGated) EventType() string { return TypeDeployGated }
func (e *DeployGated) Subject() string {
	return EnvSubject(SubjectDeployGated, e.Repo.FullName, e.Env)
}
func (e *DeployGated) CESubject() string { return e.Env + "@" + e.Commit }

// DedupKey is the request's id with the outcome: a request is blocked or
// held once.
func (e *DeployGated) DedupKey() string { return e.Request + "." + e.Outcome.String() }

// RecordOf returns the record a deploy result or a gated deploy carries:
// what `slipway history` lists. It is false for any other event.
func RecordOf(e Event) (DeployResult, bool) {
	if g, ok := e.(*DeployGated); ok {
		return g.DeployResult, true
	}
	return ResultOf(e)
}
