package github

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
)

// parse normalises the JSON payload of a delivery of kind eventType (the
// X-GitHub-Event header).
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
		return nil, fmt.Errorf("%w: no %s header", forge.ErrMalformed, headerEvent)
	}
	return nil, forge.IgnoredEvent(eventType)
}

// pushPayload is the part of GitHub's push payload Slipway reads.
type pushPayload struct {
	Ref        string `json:"ref"`
	Before     string `json:"before"`
	After      string `json:"after"`
	Deleted    bool   `json:"deleted"`
	Forced     bool   `json:"forced"`
	Repository struct {
		FullName      string `json:"full_name"`
		CloneURL      string `json:"clone_url"`
		DefaultBranch string `json:"default_branch"`
		MasterBranch  string `json:"master_branch"`
	} `json:"repository"`
	Pusher struct {
		Name string `json:"name"`
	} `json:"pusher"`
	Sender struct {
		Login string `json:"login"`
	} `json:"sender"`
	HeadCommit *struct {
		Message string `json:"message"`
	} `json:"head_commit"`
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
	push := forge.Push{
		Forge:         Name,
		FullName:      p.Repository.FullName,
		CloneURL:      p.Repository.CloneURL,
		DefaultBranch: cmp.Or(p.Repository.DefaultBranch, p.Repository.MasterBranch),
		Ref:           p.Ref,
		Before:        p.Before,
		After:         p.After,
		Deleted:       p.Deleted,
		Forced:        p.Forced,
		Pusher:        cmp.Or(p.Pusher.Name, p.Sender.Login),
	}
	if p.HeadCommit != nil {
		push.Message = p.HeadCommit.Message
	}
	return push
}
