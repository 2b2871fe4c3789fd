package events

// TypeDeploySuperseded is the CloudEvents type of DeploySuperseded.
const TypeDeploySuperseded = "dev.slipway.deploy.superseded." + SchemaVersion

// SubjectDeploySuperseded is the subject prefix of superseded deploys; the
// repository and the environment are the last tokens (EnvSubject).
const SubjectDeploySuperseded = "slipway.deploy.superseded"

// DeploySuperseded records a deploy request that was skipped because a newer
// one overtook it while it waited ("latest wins"), or because the
// environment already runs a descendant of its commit (builds finished out of
// order). The environment did not change. Reason says which.
type DeploySuperseded struct{ DeployResult }

func (e *DeploySuperseded) EventType() string { return TypeDeploySuperseded }
func (e *DeploySuperseded) Subject() string {
	return EnvSubject(SubjectDeploySuperseded, e.Repo.FullName, e.Env)
}
func (e *DeploySuperseded) CESubject() string { return e.Env + "@" + e.Commit }
func (e *DeploySuperseded) DedupKey() string  { return e.Request + ".superseded" }
