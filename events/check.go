package events

import "time"

// The CloudEvents types and subjects of checks. A check's events are about
// a commit, not an environment: they end with no environment token.
const (
	TypeCheckRequested    = "dev.slipway.check.requested." + SchemaVersion
	TypeCheckFinished     = "dev.slipway.check.finished." + SchemaVersion
	SubjectCheckRequested = "slipway.check.requested"
	SubjectCheckFinished  = "slipway.check.finished"
)

// CheckLogLines bounds the lines of a check's output its result carries.
const CheckLogLines = 40

// Check is a command slipway.yaml declares for a commit: run in a stage of
// a service's Dockerfile (Target, or its last stage) built by BuildKit, with
// no network unless Network, within Timeout.
type Check struct {
	Name    string        `json:"name"`
	Service string        `json:"service"`
	Run     string        `json:"run"`
	Target  string        `json:"target,omitempty"`
	Network bool          `json:"network,omitempty"`
	Timeout time.Duration `json:"timeout_ns,omitempty"`
}

// CheckLog is the name a check's log is recorded under beside the build
// logs of its commit (the service of natsjs.LogSubject): "check_" and the
// check's name. A service name holds no "_" (it is a DNS label), so the
// log of check "lint" never meets the build log of a service "check-lint".
func CheckLog(check string) string { return "check_" + check }

// CheckKey is the claim of running a check of a commit of a repository: it
// runs once, whatever its outcome.
func CheckKey(repo, sha, check string) string {
	return "check." + RepoKey(repo) + "." + sha + "." + KeyPart(check)
}

// CheckRequested asks for one check of a commit, planned with its builds
// (a push to the default branch, a followed branch, a pull request head).
type CheckRequested struct {
	Repo   Repo   `json:"repo"`
	Commit string `json:"commit"`
	Branch string `json:"branch"`
	Check  Check  `json:"check"`
}

func (e *CheckRequested) EventType() string { return TypeCheckRequested }
func (e *CheckRequested) Subject() string   { return SubjectCheckRequested }
func (e *CheckRequested) CESubject() string { return e.Commit + "/" + e.Check.Name }
func (e *CheckRequested) DedupKey() string {
	return CheckKey(e.Repo.FullName, e.Commit, e.Check.Name) + ".requested"
}

// CheckFinished records the one run of a check of a commit: passed or not,
// and the last lines of its output (at most CheckLogLines).
type CheckFinished struct {
	Repo     Repo          `json:"repo"`
	Commit   string        `json:"commit"`
	Branch   string        `json:"branch"`
	Check    string        `json:"check"`
	Service  string        `json:"service"`
	Passed   bool          `json:"passed"`
	Reason   string        `json:"reason,omitempty"`
	Log      []string      `json:"log,omitempty"`
	Started  time.Time     `json:"started_at"`
	Duration time.Duration `json:"duration_ns"`
}

func (e *CheckFinished) EventType() string { return TypeCheckFinished }
func (e *CheckFinished) Subject() string   { return SubjectCheckFinished }
func (e *CheckFinished) CESubject() string { return e.Commit + "/" + e.Check }

// DedupKey is the check's claim with ".finished": a check runs once per
// commit, so it finishes once.
func (e *CheckFinished) DedupKey() string {
	return CheckKey(e.Repo.FullName, e.Commit, e.Check) + ".finished"
}

// Status returns "passed" or "failed".
func (e *CheckFinished) Status() string {
	if e.Passed {
		return "passed"
	}
	return "failed"
}
