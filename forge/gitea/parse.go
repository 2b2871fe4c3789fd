package gitea

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
)

// parse normalises the JSON payload of a delivery of kind eventType (the
// X-Gitea-Event header or its Forgejo/Gogs twin).
func parse(eventType string, payload []byte) (events.Event, error) {
	switch {
	case eventType == "push":
		return parsePush(payload)
	case eventType == "ping":
		return nil, events.Ignored(forge.ReasonPing)
	case strings.HasPrefix(eventType, "pull_request"):
		return nil, events.Ignored(forge.ReasonPullRequest)
	case eventType == "create" || eventType == "delete":
		return nil, forge.IgnoreRefEvent(eventType, payload)
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
}

// pushPayload is the part of the Gitea/Forgejo/Gogs push payload Slipway
// reads.
type pushPayload struct {
	Ref        string `json:"ref"`
	Before     string `json:"before"`
	After      string `json:"after"`
	Repository struct {
		FullName      string `json:"full_name"`
		CloneURL      string `json:"clone_url"`
		DefaultBranch string `json:"default_branch"`
	} `json:"repository"`
	Pusher     user     `json:"pusher"`
	Sender     user     `json:"sender"`
	HeadCommit *commit  `json:"head_commit"`
	Commits    []commit `json:"commits"`
}

func parsePush(payload []byte) (events.Event, error) {
	var p pushPayload
	if err := forge.Decode(payload, &p); err != nil {
		return nil, err
	}
	e, err := p.push().Normalise()
	if err != nil {
		return nil, err
	}
	return e, nil
}

// push maps the payload onto the fields every forge shares.
func (p *pushPayload) push() forge.Push {
	return forge.Push{
		Forge:         Name,
		FullName:      p.Repository.FullName,
		CloneURL:      p.Repository.CloneURL,
		DefaultBranch: p.Repository.DefaultBranch,
		Ref:           p.Ref,
		Before:        p.Before,
		After:         p.After,
		Pusher:        cmp.Or(p.Pusher.handle(), p.Sender.handle()),
		Message:       p.message(),
	}
}

// message is the head commit's message. Older Gitea and Gogs send no
// head_commit; the commit list then holds it.
func (p *pushPayload) message() string {
	if p.HeadCommit != nil {
		return p.HeadCommit.Message
	}
	for _, c := range p.Commits {
		if c.ID == p.After {
			return c.Message
		}
	}
	return ""
}
