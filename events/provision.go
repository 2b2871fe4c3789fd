package events

import (
	"strconv"
	"time"
)

// TypeProvisionFinished is the CloudEvents type of ProvisionFinished.
const TypeProvisionFinished = "dev.slipway.provision.finished." + SchemaVersion

// SubjectProvisionFinished is the subject prefix of finished provisioning
// runs; the repository and the environment are the last tokens
// (EnvSubject).
const SubjectProvisionFinished = "slipway.provision.finished"

// ProvisionPhase is what a provisioning run did: preview the changes of a
// release (plan) or make them (apply).
type ProvisionPhase string

// The phases of a provisioning step.
const (
	PhasePlan  ProvisionPhase = "plan"
	PhaseApply ProvisionPhase = "apply"
)

// ProvisionStep is a provisioning step slipway.yaml declares (an OpenTofu
// configuration): Plan and Apply run in a container of Image with the
// repository's Dir at the commit in its working directory and the step's
// state volume at /state.
type ProvisionStep struct {
	Name  string   `json:"name"`
	Image string   `json:"image"`
	Dir   string   `json:"dir"`
	Plan  []string `json:"plan,omitempty"`
	Apply []string `json:"apply"`
	// Environments are the environments the step runs for; empty is every
	// declared one.
	Environments []string `json:"environments,omitempty"`
	// Network lets the container reach the network (a provider download, a
	// cloud API); without it the container has none.
	Network bool `json:"network,omitempty"`
	// Secrets are the names of the environment's secrets the container gets
	// as environment variables.
	Secrets []string      `json:"secrets,omitempty"`
	Timeout time.Duration `json:"timeout_ns,omitempty"`
}

// Command returns the command of phase ("" when the step has none).
func (s ProvisionStep) Command(phase ProvisionPhase) []string {
	if phase == PhasePlan {
		return s.Plan
	}
	return s.Apply
}

// ProvisionKey is the claim of applying a provisioning step of a commit to
// an environment of a repository: it succeeds once.
func ProvisionKey(repo, env, sha, step string) string {
	return "provision." + EnvKey(repo, env) + "." + sha + "." + KeyPart(step)
}

// ProvisionFinished records a plan or an apply of a provisioning step and
// the end of its output (ANSI escapes removed). Number is the release pull
// request a plan was made for.
type ProvisionFinished struct {
	Env      string         `json:"env"`
	Repo     Repo           `json:"repo"`
	Commit   string         `json:"commit"`
	Step     string         `json:"step"`
	Phase    ProvisionPhase `json:"phase"`
	Number   int            `json:"number,omitempty"`
	Image    string         `json:"image"`
	ExitCode int            `json:"exit_code"`
	Output   string         `json:"output,omitempty"`
	Reason   string         `json:"reason,omitempty"`
	Started  time.Time      `json:"started_at"`
	Duration time.Duration  `json:"duration_ns"`
}

// Succeeded reports whether the run exited 0.
func (e *ProvisionFinished) Succeeded() bool { return e.ExitCode == 0 && e.Reason == "" }

func (e *ProvisionFinished) EventType() string { return TypeProvisionFinished }
func (e *ProvisionFinished) Subject() string {
	return EnvSubject(SubjectProvisionFinished, e.Repo.FullName, e.Env)
}
func (e *ProvisionFinished) CESubject() string {
	return e.Env + "@" + e.Commit + "/" + e.Step + "/" + string(e.Phase)
}

// DedupKey is the step's claim with ".apply.succeeded" for a successful
// apply, once; a failed apply and every plan are named by their start
// time, so each attempt is recorded.
func (e *ProvisionFinished) DedupKey() string {
	k := ProvisionKey(e.Repo.FullName, e.Env, e.Commit, e.Step) + "." + string(e.Phase)
	if e.Phase == PhaseApply && e.Succeeded() {
		return k + ".succeeded"
	}
	return k + "." + strconv.FormatInt(e.Started.UnixNano(), 10)
}

// ProvisionPlan is the plan of one provisioning step in a release plan.
type ProvisionPlan struct {
	Step     string `json:"step"`
	ExitCode int    `json:"exit_code"`
	Output   string `json:"output,omitempty"`
	Reason   string `json:"reason,omitempty"`
}
