package generic

import (
	"fmt"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
)

// Version is the version of the format this package reads.
const Version = 1

type repository struct {
	FullName      string `json:"full_name"`
	CloneURL      string `json:"clone_url"`
	DefaultBranch string `json:"default_branch"`
}

// payload is a delivery of the generic format, version 1.
type payload struct {
	Version    int             `json:"version"`
	ID         string          `json:"id"`
	Event      string          `json:"event"`
	Repository repository      `json:"repository"`
	Ref        string          `json:"ref"`
	Before     string          `json:"before"`
	After      string          `json:"after"`
	Created    bool            `json:"created"`
	Deleted    bool            `json:"deleted"`
	Forced     bool            `json:"forced"`
	Pusher     string          `json:"pusher"`
	Commits    []events.Commit `json:"commits"`

	PullRequest *struct {
		Action           string      `json:"action"`
		Number           int         `json:"number"`
		HeadSHA          string      `json:"head_sha"`
		HeadBranch       string      `json:"head_branch"`
		BaseBranch       string      `json:"base_branch"`
		SourceRepository *repository `json:"source_repository"`
		Title            string      `json:"title"`
		Author           string      `json:"author"`
		MergeSHA         string      `json:"merge_sha"`
	} `json:"pull_request"`
}

// parse normalises a delivery and returns its id.
func parse(body []byte) (string, []events.Event, error) {
	var p payload
	if err := forge.Decode(body, &p); err != nil {
		return "", nil, err
	}
	if p.Version != 0 && p.Version != Version {
		return "", nil, fmt.Errorf("%w: version %d, want %d", forge.ErrMalformed, p.Version, Version)
	}
	var evs []events.Event
	var err error
	switch p.Event {
	case "push":
		evs, err = forge.One(p.push().Normalise())
	case "pull_request":
		evs, err = forge.One(p.pullRequest())
	case "ping":
		err = events.Ignored(forge.ReasonPing)
	case "":
		err = fmt.Errorf("%w: no event", forge.ErrMalformed)
	default:
		err = forge.IgnoredEvent(p.Event)
	}
	return p.ID, evs, err
}

func (p *payload) push() forge.Push {
	push := forge.Push{
		Forge:         Name,
		FullName:      p.Repository.FullName,
		CloneURL:      p.Repository.CloneURL,
		DefaultBranch: p.Repository.DefaultBranch,
		Ref:           p.Ref,
		Before:        p.Before,
		After:         p.After,
		Created:       p.Created,
		Deleted:       p.Deleted,
		Forced:        p.Forced,
		Pusher:        p.Pusher,
		Commits:       p.Commits,
	}
	if n := len(p.Commits); n > 0 && p.Commits[n-1].ID == p.After {
		push.Message = p.Commits[n-1].Message
	}
	return push
}

func (p *payload) pullRequest() (events.Event, error) {
	pr := p.PullRequest
	if pr == nil {
		return nil, fmt.Errorf("%w: pull_request event without pull_request", forge.ErrMalformed)
	}
	n := forge.PullRequest{
		Forge:         Name,
		Action:        pr.Action,
		Number:        pr.Number,
		FullName:      p.Repository.FullName,
		CloneURL:      p.Repository.CloneURL,
		DefaultBranch: p.Repository.DefaultBranch,
		HeadSHA:       pr.HeadSHA,
		HeadBranch:    pr.HeadBranch,
		BaseBranch:    pr.BaseBranch,
		Title:         pr.Title,
		Author:        pr.Author,
		MergeSHA:      pr.MergeSHA,
	}
	if src := pr.SourceRepository; src != nil {
		n.SourceFullName, n.SourceCloneURL, n.SourceDefaultBranch = src.FullName, src.CloneURL, src.DefaultBranch
	}
	return n.Normalise()
}
