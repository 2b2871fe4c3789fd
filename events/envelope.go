package events

import (
	"encoding/json"
	"fmt"
	"time"
)

// Envelope is an event with its CloudEvents attributes, as it travels on the
// wire: the attributes become NATS headers, Data the message body.
type Envelope struct {
	ID      string    // ce-id, the dedup key
	Type    string    // ce-type
	Source  string    // ce-source, the component that published it
	Subject string    // ce-subject
	Time    time.Time // ce-time
	Data    []byte    // the JSON payload
}

// NewEnvelope marshals e into an envelope stamped with source and now.
func NewEnvelope(e Event, source string, now time.Time) (Envelope, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return Envelope{}, fmt.Errorf("marshal %s: %w", e.EventType(), err)
	}
	return Envelope{
		ID:      e.DedupKey(),
		Type:    e.EventType(),
		Source:  source,
		Subject: e.CESubject(),
		Time:    now.UTC(),
		Data:    data,
	}, nil
}

// Decode returns the typed event in the envelope, a deploy event stored by
// an earlier version completed with its kind and outcome (legacy.go). An
// unknown type or a payload that does not match its type is a Permanent
// error: redelivering it cannot help.
func (env Envelope) Decode() (Event, error) {
	var e Event
	switch env.Type {
	case TypePushReceived:
		e = new(PushReceived)
	case TypeBuildRequested:
		e = new(BuildRequested)
	case TypeBuildSucceeded:
		e = new(BuildSucceeded)
	case TypeBuildFailed:
		e = new(BuildFailed)
	case TypeCommitBuilt:
		e = new(CommitBuilt)
	case TypeDeployRequested:
		e = new(DeployRequested)
	case TypeDeploySucceeded:
		e = new(DeploySucceeded)
	case TypeDeployFailed:
		e = new(DeployFailed)
	case TypeDeploySuperseded:
		e = new(DeploySuperseded)
	case TypePullRequest:
		e = new(PullRequestChanged)
	case TypeBranchDeleted:
		e = new(BranchDeleted)
	case TypeTagPushed:
		e = new(TagPushed)
	case TypeTagDeleted:
		e = new(TagDeleted)
	case TypeReleasePlanned:
		e = new(ReleasePlanned)
	case TypeReleaseRequested:
		e = new(ReleaseRequested)
	case TypePreviewRemoved:
		e = new(PreviewRemoved)
	case TypeTaskFinished:
		e = new(TaskFinished)
	case TypeCheckRequested:
		e = new(CheckRequested)
	case TypeCheckFinished:
		e = new(CheckFinished)
	case TypeDeployGated:
		e = new(DeployGated)
	case TypeProvisionFinished:
		e = new(ProvisionFinished)
	default:
		return nil, Permanent(fmt.Errorf("unknown event type %q", env.Type))
	}
	if err := json.Unmarshal(env.Data, e); err != nil {
		return nil, Permanent(fmt.Errorf("decode %s %s: %w", env.Type, env.ID, err))
	}
	if err := completeDeploy(e); err != nil {
		return nil, Permanent(fmt.Errorf("decode %s %s: %w", env.Type, env.ID, err))
	}
	return e, nil
}
