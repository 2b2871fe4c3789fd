package gitlab

import (
	"cmp"
	"fmt"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
)

// Event kinds of X-Gitlab-Event.
const (
	kindPush         = "Push Hook"
	kindTagPush      = "Tag Push Hook"
	kindMergeRequest = "Merge Request Hook"
	kindSystem       = "System Hook"
)

// systemKinds maps the object_kind of a system hook onto the project hook
// kind with the same payload.
var systemKinds = map[string]string{"push": kindPush, "tag_push": kindTagPush, "merge_request": kindMergeRequest}

// parse normalises the JSON payload of a delivery of kind eventType (the
// X-Gitlab-Event header).
func parse(eventType string, payload []byte) ([]events.Event, error) {
	if eventType == kindSystem {
		var p struct {
			ObjectKind string `json:"object_kind"`
		}
		if err := forge.Decode(payload, &p); err != nil {
			return nil, err
		}
		if kind, ok := systemKinds[p.ObjectKind]; ok {
			eventType = kind
		}
	}
	switch eventType {
	case kindPush, kindTagPush:
		return forge.One(parsePush(payload))
	case kindMergeRequest:
		return forge.One(parseMergeRequest(payload))
	case "":
		return nil, fmt.Errorf("%w: no %s header", forge.ErrMalformed, headerEvent)
	}
	return nil, forge.IgnoredEvent(eventType)
}

// project is a project as GitLab payloads show it.
type project struct {
	PathWithNamespace string `json:"path_with_namespace"`
	GitHTTPURL        string `json:"git_http_url"`
	DefaultBranch     string `json:"default_branch"`
}

type commit struct {
	ID      string `json:"id"`
	Message string `json:"message"`
	Author  struct {
		Name string `json:"name"`
	} `json:"author"`
}

// pushPayload is the part of a Push Hook or Tag Push Hook payload Slipway
// reads.
type pushPayload struct {
	Ref               string    `json:"ref"`
	Before            string    `json:"before"`
	After             string    `json:"after"`
	CheckoutSHA       *string   `json:"checkout_sha"`
	UserUsername      string    `json:"user_username"`
	UserName          string    `json:"user_name"`
	Project           project   `json:"project"`
	Commits           []*commit `json:"commits"`
	TotalCommitsCount int       `json:"total_commits_count"`
}

func parsePush(payload []byte) (events.Event, error) {
	var p pushPayload
	if err := forge.Decode(payload, &p); err != nil {
		return nil, err
	}
	push := forge.Push{
		Forge:         Name,
		FullName:      p.Project.PathWithNamespace,
		CloneURL:      p.Project.GitHTTPURL,
		DefaultBranch: p.Project.DefaultBranch,
		Ref:           p.Ref,
		Before:        p.Before,
		After:         p.After,
		Pusher:        cmp.Or(p.UserUsername, p.UserName),
		CommitCount:   p.TotalCommitsCount,
	}
	if p.CheckoutSHA != nil {
		push.Commit = *p.CheckoutSHA
	}
	for _, c := range p.Commits {
		if c == nil {
			continue
		}
		push.Commits = append(push.Commits, events.Commit{ID: c.ID, Message: c.Message, Author: c.Author.Name})
		if c.ID == cmp.Or(push.Commit, p.After) {
			push.Message = c.Message
		}
	}
	return push.Normalise()
}

// mrPayload is the part of a Merge Request Hook payload Slipway reads.
type mrPayload struct {
	User struct {
		Username string `json:"username"`
	} `json:"user"`
	Project          project `json:"project"`
	ObjectAttributes struct {
		IID            int      `json:"iid"`
		Action         string   `json:"action"`
		OldRev         string   `json:"oldrev"`
		Title          string   `json:"title"`
		SourceBranch   string   `json:"source_branch"`
		TargetBranch   string   `json:"target_branch"`
		MergeCommitSHA string   `json:"merge_commit_sha"`
		Source         *project `json:"source"`
		LastCommit     struct {
			ID string `json:"id"`
		} `json:"last_commit"`
	} `json:"object_attributes"`
}

// mrActions maps GitLab's merge request actions onto Slipway's; update is
// an update of code only with oldrev.
var mrActions = map[string]string{
	"open":   events.PROpened,
	"reopen": events.PRReopened,
	"close":  events.PRClosedUnmerged,
	"merge":  events.PRClosedMerged,
	"update": events.PRUpdated,
}

func parseMergeRequest(payload []byte) (events.Event, error) {
	var p mrPayload
	if err := forge.Decode(payload, &p); err != nil {
		return nil, err
	}
	mr := p.ObjectAttributes
	action, ok := mrActions[mr.Action]
	switch {
	case mr.Action == "":
		return nil, fmt.Errorf("%w: merge request without object_attributes.action", forge.ErrMalformed)
	case !ok:
		return nil, forge.IgnoredAction(mr.Action)
	case action == events.PRUpdated && mr.OldRev == "":
		return nil, events.Ignored(forge.ReasonNoNewCommits)
	}
	n := forge.PullRequest{
		Forge:         Name,
		Action:        action,
		Number:        mr.IID,
		FullName:      p.Project.PathWithNamespace,
		CloneURL:      p.Project.GitHTTPURL,
		DefaultBranch: p.Project.DefaultBranch,
		HeadSHA:       mr.LastCommit.ID,
		HeadBranch:    mr.SourceBranch,
		BaseBranch:    mr.TargetBranch,
		Title:         mr.Title,
		Author:        p.User.Username,
	}
	if mr.Source != nil {
		n.SourceFullName, n.SourceCloneURL, n.SourceDefaultBranch = mr.Source.PathWithNamespace, mr.Source.GitHTTPURL, mr.Source.DefaultBranch
	}
	if action == events.PRClosedMerged {
		n.MergeSHA = mr.MergeCommitSHA
	}
	return n.Normalise()
}
