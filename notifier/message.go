package notifier

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/slipway-dev/slipway/events"
)

// Kind is what a notification reports.
type Kind string

// The kinds of notifications; each is a CloudEvents type
// "dev.slipway.notify.<kind>".
const (
	KindDeploySucceeded   Kind = "deploy.succeeded"
	KindDeployFailed      Kind = "deploy.failed"
	KindRollbackSucceeded Kind = "rollback.succeeded"
	KindRollbackFailed    Kind = "rollback.failed"
	KindDeadLetter        Kind = "deadletter"
)

// Notification is the data of a notification.
type Notification struct {
	// ID identifies it; a receiver deduplicates a retried delivery on it.
	ID      string    `json:"id"`
	Kind    Kind      `json:"kind"`
	Time    time.Time `json:"time"`
	Repo    string    `json:"repo,omitempty"`
	Env     string    `json:"env,omitempty"`
	Commit  string    `json:"commit,omitempty"`
	Actor   string    `json:"actor,omitempty"`
	Trigger string    `json:"trigger,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	// Duration of the deploy.
	Duration time.Duration `json:"duration_ns,omitempty"`
	// Consumer, Subject and Seq name a dead letter.
	Consumer string `json:"consumer,omitempty"`
	Subject  string `json:"subject,omitempty"`
	Seq      uint64 `json:"seq,omitempty"`
}

// FromDeploy returns the notification of a deploy result, false for other
// events (a superseded deploy is not news).
func FromDeploy(id string, ev any) (Notification, bool) {
	var r events.DeployResult
	succeeded := false
	switch e := ev.(type) {
	case *events.DeploySucceeded:
		r, succeeded = e.DeployResult, true
	case *events.DeployFailed:
		r = e.DeployResult
	default:
		return Notification{}, false
	}
	kind := KindDeploySucceeded
	switch {
	case r.Kind == events.KindRollback && succeeded:
		kind = KindRollbackSucceeded
	case r.Kind == events.KindRollback:
		kind = KindRollbackFailed
	case !succeeded:
		kind = KindDeployFailed
	}
	return Notification{ID: id, Kind: kind, Time: r.StartedAt.Add(r.Duration), Repo: r.Repo.FullName, Env: r.Env,
		Commit: r.Commit, Actor: r.Actor, Trigger: r.Trigger, Reason: r.Reason, Duration: r.Duration}, true
}

// Text is the notification's line for people.
func (n Notification) Text() string {
	short := n.Commit
	if len(short) > 12 {
		short = short[:12]
	}
	switch n.Kind {
	case KindDeploySucceeded:
		return fmt.Sprintf(":white_check_mark: %s: %s runs %s (%s, by %s)", n.Repo, n.Env, short, n.Duration.Round(time.Millisecond), n.Actor)
	case KindDeployFailed:
		return fmt.Sprintf(":x: %s: deploy of %s to %s failed: %s", n.Repo, short, n.Env, n.Reason)
	case KindRollbackSucceeded:
		return fmt.Sprintf(":rewind: %s: %s rolled back to %s by %s", n.Repo, n.Env, short, n.Actor)
	case KindRollbackFailed:
		return fmt.Sprintf(":x: %s: rollback of %s to %s failed: %s", n.Repo, n.Env, short, n.Reason)
	case KindDeadLetter:
		return fmt.Sprintf(":warning: dead letter %d: %s failed every delivery to %s (slipway dlq retry %d)", n.Seq, n.Subject, n.Consumer, n.Seq)
	}
	return string(n.Kind)
}

// body returns the body and content type of n in format f.
func (n Notification) body(f Format) ([]byte, string, error) {
	if f == FormatSlack {
		b, err := json.Marshal(map[string]any{
			"text": n.Text(),
			"blocks": []any{map[string]any{"type": "section",
				"text": map[string]string{"type": "mrkdwn", "text": n.Text()}}},
			"slipway": n,
		})
		return b, "application/json", err
	}
	b, err := json.Marshal(n)
	return b, "application/json", err
}
