package github

import (
	"cmp"
	"fmt"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
)

// parse normalises the JSON payload of a delivery of kind eventType (the
// X-GitHub-Event header).
func parse(eventType string, payload []byte) ([]events.Event, error) {
	switch eventType {
	case "push":
		return forge.One(parsePush(payload))
	case "pull_request":
		return forge.One(parsePullRequest(payload))
	case "ping":
		return nil, events.Ignored(forge.ReasonPing)
	case "create", "delete":
		if err := forge.Decode(payload, &struct{}{}); err != nil {
			return nil, err
		}
		return nil, events.Ignored(forge.ReasonCarriedByPush)
	case "":
		return nil, fmt.Errorf("%w: no %s header", forge.ErrMalformed, headerEvent)
	}
	return nil, forge.IgnoredEvent(eventType)
}

// repository is a repository as GitHub payloads show it.
type repository struct {
	FullName      string `json:"full_name"`
	CloneURL      string `json:"clone_url"`
	DefaultBranch string `json:"default_branch"`
	MasterBranch  string `json:"master_branch"`
}

func (r repository) defaultBranch() string { return cmp.Or(r.DefaultBranch, r.MasterBranch) }

type commit struct {
	ID      string `json:"id"`
	Message string `json:"message"`
	Author  struct {
		Name     string `json:"name"`
		Username string `json:"username"`
	} `json:"author"`
}

// pushPayload is the part of GitHub's push payload Slipway reads.
type pushPayload struct {
	Ref        string     `json:"ref"`
	Before     string     `json:"before"`
	After      string     `json:"after"`
	Created    bool       `json:"created"`
	Deleted    bool       `json:"deleted"`
	Forced     bool       `json:"forced"`
	Repository repository `json:"repository"`
	Pusher     struct {
		Name string `json:"name"`
	} `json:"pusher"`
	Sender struct {
		Login string `json:"login"`
	} `json:"sender"`
	HeadCommit *commit   `json:"head_commit"`
	Commits    []*commit `json:"commits"`
}

func parsePush(payload []byte) (events.Event, error) {
	var p pushPayload
	if err := forge.Decode(payload, &p); err != nil {
		return nil, err
	}
	return p.push().Normalise()
}

// push maps the payload onto the fields every forge shares.
func (p *pushPayload) push() forge.Push {
	push := forge.Push{
		Forge:         Name,
		FullName:      p.Repository.FullName,
		CloneURL:      p.Repository.CloneURL,
		DefaultBranch: p.Repository.defaultBranch(),
		Ref:           p.Ref,
		Before:        p.Before,
		After:         p.After,
		Created:       p.Created,
		Deleted:       p.Deleted,
		Forced:        p.Forced,
		Pusher:        cmp.Or(p.Pusher.Name, p.Sender.Login),
	}
	if p.HeadCommit != nil {
		push.Message = p.HeadCommit.Message
		push.Commit = p.HeadCommit.ID
	}
	for _, c := range p.Commits {
		if c != nil {
			push.Commits = append(push.Commits, events.Commit{ID: c.ID, Message: c.Message, Author: cmp.Or(c.Author.Username, c.Author.Name)})
		}
	}
	return push
}

// prPayload is the part of GitHub's pull_request payload Slipway reads.
type prPayload struct {
	Action      string `json:"action"`
	Number      int    `json:"number"`
	PullRequest struct {
		Number int    `json:"number"`
		Title  string `json:"title"`
		User   struct {
			Login string `json:"login"`
		} `json:"user"`
		Merged         bool   `json:"merged"`
		MergeCommitSHA string `json:"merge_commit_sha"`
		Head           struct {
			Ref  string      `json:"ref"`
			SHA  string      `json:"sha"`
			Repo *repository `json:"repo"`
		} `json:"head"`
		Base struct {
			Ref string `json:"ref"`
		} `json:"base"`
	} `json:"pull_request"`
	Repository repository `json:"repository"`
}

// prActions maps GitHub's actions onto Slipway's; closed is decided by
// pull_request.merged.
var prActions = map[string]string{
	"opened":      events.PROpened,
	"synchronize": events.PRUpdated,
	"reopened":    events.PRReopened,
	"closed":      events.PRClosedUnmerged,
}

func parsePullRequest(payload []byte) (events.Event, error) {
	var p prPayload
	if err := forge.Decode(payload, &p); err != nil {
		return nil, err
	}
	action, ok := prActions[p.Action]
	switch {
	case p.Action == "":
		return nil, fmt.Errorf("%w: pull_request without action", forge.ErrMalformed)
	case !ok:
		return nil, forge.IgnoredAction(p.Action)
	}
	pr := p.PullRequest
	n := forge.PullRequest{
		Forge:         Name,
		Action:        action,
		Number:        cmp.Or(p.Number, pr.Number),
		FullName:      p.Repository.FullName,
		CloneURL:      p.Repository.CloneURL,
		DefaultBranch: p.Repository.defaultBranch(),
		HeadSHA:       pr.Head.SHA,
		HeadBranch:    pr.Head.Ref,
		BaseBranch:    pr.Base.Ref,
		Title:         pr.Title,
		Author:        pr.User.Login,
	}
	if pr.Head.Repo != nil {
		n.SourceFullName, n.SourceCloneURL, n.SourceDefaultBranch = pr.Head.Repo.FullName, pr.Head.Repo.CloneURL, pr.Head.Repo.defaultBranch()
	}
	if action == events.PRClosedUnmerged && pr.Merged {
		n.Action, n.MergeSHA = events.PRClosedMerged, pr.MergeCommitSHA
	}
	return n.Normalise()
}
