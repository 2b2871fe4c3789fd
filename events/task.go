package events

import (
	"strconv"
	"time"
)

// TypeTaskFinished is the CloudEvents type of TaskFinished.
const TypeTaskFinished = "dev.slipway.task.finished." + SchemaVersion

// SubjectTaskFinished is the subject prefix of finished deployment tasks;
// the repository and the environment are the last tokens (EnvSubject).
const SubjectTaskFinished = "slipway.task.finished"

// Task is a one-off command a service declares, run from its new image
// before a commit starts in an environment: a database migration.
type Task struct {
	Name    string        `json:"name"`
	Command []string      `json:"command"`
	Timeout time.Duration `json:"timeout_ns,omitempty"`
}

// TaskKey is the claim of running a task of a service of a commit in an
// environment of a repository: it succeeds once.
func TaskKey(repo, env, sha, service, task string) string {
	return "task." + EnvKey(repo, env) + "." + sha + "." + KeyPart(service) + "." + KeyPart(task)
}

// LegacyTaskKey is the claim earlier versions took for a task, without the
// repository: a task done under it is not run again after an upgrade.
func LegacyTaskKey(env, sha, service, task string) string {
	return "task." + KeyPart(env) + "." + sha + "." + KeyPart(service) + "." + KeyPart(task)
}

// TaskFinished records a run of a deployment task and its output.
type TaskFinished struct {
	Env     string `json:"env"`
	Repo    Repo   `json:"repo"`
	Commit  string `json:"commit"`
	Service string `json:"service"`
	Task    string `json:"task"`
	// Image is the image reference pinned by digest the task ran from.
	Image    string        `json:"image"`
	ExitCode int           `json:"exit_code"`
	Output   string        `json:"output,omitempty"`
	Reason   string        `json:"reason,omitempty"`
	Started  time.Time     `json:"started_at"`
	Duration time.Duration `json:"duration_ns"`
}

// Succeeded reports whether the task exited 0.
func (e *TaskFinished) Succeeded() bool { return e.ExitCode == 0 && e.Reason == "" }

func (e *TaskFinished) EventType() string { return TypeTaskFinished }
func (e *TaskFinished) Subject() string {
	return EnvSubject(SubjectTaskFinished, e.Repo.FullName, e.Env)
}
func (e *TaskFinished) CESubject() string {
	return e.Env + "@" + e.Commit + "/" + e.Service + "/" + e.Task
}

// DedupKey is the task's claim with ".succeeded", once; a failed run is
// named by its start time, so every attempt is recorded.
func (e *TaskFinished) DedupKey() string {
	k := TaskKey(e.Repo.FullName, e.Env, e.Commit, e.Service, e.Task)
	if e.Succeeded() {
		return k + ".succeeded"
	}
	return k + ".failed." + strconv.FormatInt(e.Started.UnixNano(), 10)
}
