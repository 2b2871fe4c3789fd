package azuredevops

import (
	"fmt"
	"strings"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
)

// repository is a repository as Azure DevOps payloads show it.
type repository struct {
	Name          string `json:"name"`
	RemoteURL     string `json:"remoteUrl"`
	DefaultBranch string `json:"defaultBranch"`
	Project       struct {
		Name string `json:"name"`
	} `json:"project"`
}

func (r *repository) fullName() string {
	if r.Project.Name == "" || r.Name == "" {
		return ""
	}
	return r.Project.Name + "/" + r.Name
}

type identity struct {
	DisplayName string `json:"displayName"`
}

type commit struct {
	CommitID string `json:"commitId"`
	Comment  string `json:"comment"`
	Author   struct {
		Name string `json:"name"`
	} `json:"author"`
}

// envelope is what every service hook payload carries.
type envelope struct {
	ID        string `json:"id"`
	EventType string `json:"eventType"`
}

// parse normalises a service hook payload and returns the delivery id it
// carries.
func parse(payload []byte) (string, []events.Event, error) {
	var env envelope
	if err := forge.Decode(payload, &env); err != nil {
		return "", nil, err
	}
	var evs []events.Event
	var err error
	switch {
	case env.EventType == "git.push":
		evs, err = parsePush(payload)
	case strings.HasPrefix(env.EventType, "git.pullrequest."):
		evs, err = forge.One(parsePullRequest(env.EventType, payload))
	case env.EventType == "":
		err = fmt.Errorf("%w: no eventType", forge.ErrMalformed)
	default:
		err = forge.IgnoredEvent(env.EventType)
	}
	return env.ID, evs, err
}

type pushPayload struct {
	Resource struct {
		RefUpdates []*struct {
			Name        string `json:"name"`
			OldObjectID string `json:"oldObjectId"`
			NewObjectID string `json:"newObjectId"`
		} `json:"refUpdates"`
		Commits    []*commit  `json:"commits"`
		PushedBy   identity   `json:"pushedBy"`
		Repository repository `json:"repository"`
	} `json:"resource"`
}

// parsePush returns one event per ref a push updated.
func parsePush(payload []byte) ([]events.Event, error) {
	var p pushPayload
	if err := forge.Decode(payload, &p); err != nil {
		return nil, err
	}
	res := p.Resource
	if len(res.RefUpdates) == 0 {
		return nil, fmt.Errorf("%w: git.push without refUpdates", forge.ErrMalformed)
	}
	var evs []events.Event
	for _, u := range res.RefUpdates {
		if u == nil {
			return nil, fmt.Errorf("%w: null ref update", forge.ErrMalformed)
		}
		push := forge.Push{
			Forge:         Name,
			FullName:      res.Repository.fullName(),
			CloneURL:      res.Repository.RemoteURL,
			DefaultBranch: res.Repository.DefaultBranch,
			Ref:           u.Name,
			Before:        u.OldObjectID,
			After:         u.NewObjectID,
			Pusher:        res.PushedBy.DisplayName,
		}
		if len(res.RefUpdates) == 1 {
			push.Commits, push.Message = commits(res.Commits, u.NewObjectID)
		}
		e, err := push.Normalise()
		if _, ignored := forge.IgnoredReason(err); ignored {
			continue
		}
		if err != nil {
			return nil, err
		}
		evs = append(evs, e)
	}
	if len(evs) == 0 {
		return nil, events.Ignored(forge.ReasonNotBranch)
	}
	return evs, nil
}

// commits returns the commit list oldest first and the message of head.
func commits(list []*commit, head string) ([]events.Commit, string) {
	var out []events.Commit
	var message string
	for i := len(list) - 1; i >= 0; i-- {
		c := list[i]
		if c == nil {
			continue
		}
		out = append(out, events.Commit{ID: c.CommitID, Message: c.Comment, Author: c.Author.Name})
		if c.CommitID == head {
			message = c.Comment
		}
	}
	return out, message
}

type prPayload struct {
	Resource struct {
		PullRequestID         int        `json:"pullRequestId"`
		Status                string     `json:"status"`
		Title                 string     `json:"title"`
		SourceRefName         string     `json:"sourceRefName"`
		TargetRefName         string     `json:"targetRefName"`
		CreatedBy             identity   `json:"createdBy"`
		Repository            repository `json:"repository"`
		LastMergeSourceCommit *struct {
			CommitID string `json:"commitId"`
		} `json:"lastMergeSourceCommit"`
		LastMergeCommit *struct {
			CommitID string `json:"commitId"`
		} `json:"lastMergeCommit"`
		ForkSource *struct {
			Repository *repository `json:"repository"`
		} `json:"forkSource"`
	} `json:"resource"`
}

func parsePullRequest(eventType string, payload []byte) (events.Event, error) {
	var p prPayload
	if err := forge.Decode(payload, &p); err != nil {
		return nil, err
	}
	res := p.Resource
	action, err := prAction(eventType, res.Status)
	if err != nil {
		return nil, err
	}
	n := forge.PullRequest{
		Forge:         Name,
		Action:        action,
		Number:        res.PullRequestID,
		FullName:      res.Repository.fullName(),
		CloneURL:      res.Repository.RemoteURL,
		DefaultBranch: res.Repository.DefaultBranch,
		HeadBranch:    strings.TrimPrefix(res.SourceRefName, forge.BranchPrefix),
		BaseBranch:    strings.TrimPrefix(res.TargetRefName, forge.BranchPrefix),
		Title:         res.Title,
		Author:        res.CreatedBy.DisplayName,
	}
	if res.LastMergeSourceCommit != nil {
		n.HeadSHA = res.LastMergeSourceCommit.CommitID
	}
	src := &res.Repository
	if res.ForkSource != nil && res.ForkSource.Repository != nil {
		src = res.ForkSource.Repository
	}
	n.SourceFullName, n.SourceCloneURL, n.SourceDefaultBranch = src.fullName(), src.RemoteURL, src.DefaultBranch
	if action == events.PRClosedMerged && res.LastMergeCommit != nil {
		n.MergeSHA = res.LastMergeCommit.CommitID
	}
	return n.Normalise()
}

// prAction maps an event type and the pull request's status onto Slipway's
// action.
func prAction(eventType, status string) (string, error) {
	switch eventType {
	case "git.pullrequest.created":
		return events.PROpened, nil
	case "git.pullrequest.merged":
		if status != "completed" {
			return "", events.Ignored("pull request merge attempted, not completed")
		}
		return events.PRClosedMerged, nil
	case "git.pullrequest.updated":
		switch status {
		case "completed":
			return events.PRClosedMerged, nil
		case "abandoned":
			return events.PRClosedUnmerged, nil
		case "active":
			return events.PRUpdated, nil
		case "":
			return "", fmt.Errorf("%w: pull request without status", forge.ErrMalformed)
		}
		return "", events.Ignored("pull request status %q is not handled", clip(status))
	}
	return "", forge.IgnoredEvent(eventType)
}

func clip(s string) string {
	if len(s) > 32 {
		return s[:32]
	}
	return s
}
