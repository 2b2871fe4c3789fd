package gitea

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
)

// parse normalises the JSON payload of a delivery of kind eventType (the
// X-Gitea-Event header or its Forgejo/Gogs twin); gogs is set when only Gogs'
// headers were sent.
func parse(eventType string, payload []byte, gogs bool) ([]events.Event, error) {
	switch {
	case eventType == "push":
		return forge.One(parsePush(payload))
	case strings.HasPrefix(eventType, "pull_request"):
		return forge.One(parsePullRequest(payload))
	case eventType == "delete":
		return forge.One(parseDelete(payload, gogs))
	case eventType == "create":
		if err := forge.Decode(payload, &struct{}{}); err != nil {
			return nil, err
		}
		return nil, events.Ignored(forge.ReasonCarriedByPush)
	case eventType == "ping":
		return nil, events.Ignored(forge.ReasonPing)
	case eventType == "":
		return nil, fmt.Errorf("%w: no %s header", forge.ErrMalformed, strings.Join(eventHeaders, "/"))
	}
	return nil, forge.IgnoredEvent(eventType)
}

// user is a Gitea or Gogs account as it appears in payloads.
type user struct {
	Login    string `json:"login"`
	Username string `json:"username"`
	Name     string `json:"name"`
}

func (u user) handle() string { return cmp.Or(u.Login, u.Username, u.Name) }

// commit is one entry of a push's commit list.
type commit struct {
	ID      string `json:"id"`
	Message string `json:"message"`
	Author  user   `json:"author"`
}

// repository is a repository as Gitea and Gogs payloads show it.
type repository struct {
	ID            int64  `json:"id"`
	FullName      string `json:"full_name"`
	CloneURL      string `json:"clone_url"`
	DefaultBranch string `json:"default_branch"`
}

// pushPayload is the part of the Gitea/Forgejo/Gogs push payload Slipway
// reads.
type pushPayload struct {
	Ref          string     `json:"ref"`
	Before       string     `json:"before"`
	After        string     `json:"after"`
	Repository   repository `json:"repository"`
	Pusher       user       `json:"pusher"`
	Sender       user       `json:"sender"`
	HeadCommit   *commit    `json:"head_commit"`
	Commits      []*commit  `json:"commits"`
	TotalCommits int        `json:"total_commits"`
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
		DefaultBranch: p.Repository.DefaultBranch,
		Ref:           p.Ref,
		Before:        p.Before,
		After:         p.After,
		Pusher:        cmp.Or(p.Pusher.handle(), p.Sender.handle()),
		Message:       p.message(),
		CommitCount:   p.TotalCommits,
	}
	if p.HeadCommit != nil {
		push.Commit = p.HeadCommit.ID
	}
	for _, c := range p.Commits {
		if c != nil {
			push.Commits = append(push.Commits, events.Commit{ID: c.ID, Message: c.Message, Author: c.Author.handle()})
		}
	}
	// Gitea and Gogs list commits newest first.
	for i, j := 0, len(push.Commits)-1; i < j; i, j = i+1, j-1 {
		push.Commits[i], push.Commits[j] = push.Commits[j], push.Commits[i]
	}
	return push
}

// message is the head commit's message. Older Gitea and Gogs send no
// head_commit; the commit list then holds it.
func (p *pushPayload) message() string {
	if p.HeadCommit != nil {
		return p.HeadCommit.Message
	}
	for _, c := range p.Commits {
		if c != nil && c.ID == p.After {
			return c.Message
		}
	}
	return ""
}

// refPayload is a create or delete event.
type refPayload struct {
	Ref        string     `json:"ref"`
	RefType    string     `json:"ref_type"`
	Repository repository `json:"repository"`
	Sender     user       `json:"sender"`
}

// parseDelete turns a delete event into the deletion of a branch, or of a tag
// for Gogs, which sends no push for it. The payload names no commit.
func parseDelete(payload []byte, gogs bool) (events.Event, error) {
	var p refPayload
	if err := forge.Decode(payload, &p); err != nil {
		return nil, err
	}
	prefix := forge.BranchPrefix
	switch {
	case p.RefType == "tag" && !gogs:
		return nil, events.Ignored(forge.ReasonCarriedByPush)
	case p.RefType == "tag":
		prefix = forge.TagPrefix
	case p.RefType != "branch":
		return nil, fmt.Errorf("%w: delete event of ref_type %.20q", forge.ErrMalformed, p.RefType)
	case p.Ref == "":
		return nil, fmt.Errorf("%w: delete event without ref", forge.ErrMalformed)
	}
	ref := p.Ref
	if !strings.HasPrefix(ref, "refs/") {
		ref = prefix + ref
	}
	return forge.Push{
		Forge:         Name,
		FullName:      p.Repository.FullName,
		CloneURL:      p.Repository.CloneURL,
		DefaultBranch: p.Repository.DefaultBranch,
		Ref:           ref,
		Deleted:       true,
		Pusher:        p.Sender.handle(),
	}.Normalise()
}
