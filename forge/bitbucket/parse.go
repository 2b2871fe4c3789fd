package bitbucket

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
)

// parse normalises the JSON payload of a delivery of kind eventType (the
// X-Event-Key header).
func parse(eventType string, payload []byte) ([]events.Event, error) {
	switch {
	case eventType == "repo:push":
		return parsePush(payload)
	case strings.HasPrefix(eventType, "pullrequest:"):
		action, ok := prActions[eventType]
		if !ok {
			return nil, forge.IgnoredEvent(eventType)
		}
		return forge.One(parsePullRequest(action, payload))
	case eventType == "":
		return nil, fmt.Errorf("%w: no %s header", forge.ErrMalformed, headerEvent)
	}
	return nil, forge.IgnoredEvent(eventType)
}

type link struct {
	Href string `json:"href"`
	Name string `json:"name"`
}

// repository is a repository as Bitbucket Cloud payloads show it.
type repository struct {
	FullName string `json:"full_name"`
	Links    struct {
		HTML  link   `json:"html"`
		Clone []link `json:"clone"`
	} `json:"links"`
	MainBranch *struct {
		Name string `json:"name"`
	} `json:"mainbranch"`
}

// cloneURL is the https clone link, or the web page with ".git" appended,
// which Bitbucket serves git from.
func (r repository) cloneURL() string {
	for _, l := range r.Links.Clone {
		if l.Name == "https" {
			return l.Href
		}
	}
	if r.Links.HTML.Href == "" {
		return ""
	}
	return strings.TrimSuffix(r.Links.HTML.Href, "/") + ".git"
}

func (r repository) mainBranch() string {
	if r.MainBranch == nil {
		return ""
	}
	return r.MainBranch.Name
}

type account struct {
	Nickname    string `json:"nickname"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
}

func (a account) handle() string { return cmp.Or(a.Username, a.Nickname, a.DisplayName) }

// ref is the old or new state of a ref in a push change.
type ref struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Target struct {
		Hash    string `json:"hash"`
		Message string `json:"message"`
	} `json:"target"`
}

type change struct {
	Old     *ref `json:"old"`
	New     *ref `json:"new"`
	Created bool `json:"created"`
	Closed  bool `json:"closed"`
	Forced  bool `json:"forced"`
	Commits []*struct {
		Hash    string `json:"hash"`
		Message string `json:"message"`
		Author  struct {
			Raw  string   `json:"raw"`
			User *account `json:"user"`
		} `json:"author"`
	} `json:"commits"`
}

type pushPayload struct {
	Actor      account    `json:"actor"`
	Repository repository `json:"repository"`
	Push       struct {
		Changes []*change `json:"changes"`
	} `json:"push"`
}

// refPrefixes maps Bitbucket's ref types onto git ref prefixes.
var refPrefixes = map[string]string{
	"branch": forge.BranchPrefix, "named_branch": forge.BranchPrefix,
	"tag": forge.TagPrefix, "annotated_tag": forge.TagPrefix,
}

// parsePush returns one event per branch or tag change of a push.
func parsePush(payload []byte) ([]events.Event, error) {
	var p pushPayload
	if err := forge.Decode(payload, &p); err != nil {
		return nil, err
	}
	if len(p.Push.Changes) == 0 {
		return nil, fmt.Errorf("%w: repo:push without changes", forge.ErrMalformed)
	}
	var evs []events.Event
	for _, c := range p.Push.Changes {
		if c == nil {
			return nil, fmt.Errorf("%w: null change", forge.ErrMalformed)
		}
		e, err := p.push(c).Normalise()
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

func (p *pushPayload) push(c *change) forge.Push {
	push := forge.Push{
		Forge:         Name,
		FullName:      p.Repository.FullName,
		CloneURL:      p.Repository.cloneURL(),
		DefaultBranch: p.Repository.mainBranch(),
		Created:       c.Created,
		Deleted:       c.Closed || c.New == nil,
		Forced:        c.Forced,
		Pusher:        p.Actor.handle(),
	}
	named := cmp.Or(c.New, c.Old)
	if named != nil {
		push.Ref = refPrefixes[named.Type] + named.Name
		if refPrefixes[named.Type] == "" {
			push.Ref = "refs/" + named.Type + "/" + named.Name
		}
	}
	if c.Old != nil {
		push.Before = c.Old.Target.Hash
	}
	if c.New != nil {
		push.After, push.Message = c.New.Target.Hash, c.New.Target.Message
	}
	for i := len(c.Commits) - 1; i >= 0; i-- {
		if cm := c.Commits[i]; cm != nil {
			// raw is "Name <email>": keep the name only.
			author, _, _ := strings.Cut(cm.Author.Raw, " <")
			if cm.Author.User != nil {
				author = cmp.Or(cm.Author.User.handle(), author)
			}
			push.Commits = append(push.Commits, events.Commit{ID: cm.Hash, Message: cm.Message, Author: author})
		}
	}
	return push
}

// prActions maps the pull request event keys Slipway acts on.
var prActions = map[string]string{
	"pullrequest:created":   events.PROpened,
	"pullrequest:updated":   events.PRUpdated,
	"pullrequest:fulfilled": events.PRClosedMerged,
	"pullrequest:rejected":  events.PRClosedUnmerged,
}

type endpoint struct {
	Branch struct {
		Name string `json:"name"`
	} `json:"branch"`
	Commit *struct {
		Hash string `json:"hash"`
	} `json:"commit"`
	Repository *repository `json:"repository"`
}

type prPayload struct {
	Repository  repository `json:"repository"`
	PullRequest struct {
		ID          int      `json:"id"`
		Title       string   `json:"title"`
		Author      account  `json:"author"`
		Source      endpoint `json:"source"`
		Destination endpoint `json:"destination"`
		MergeCommit *struct {
			Hash string `json:"hash"`
		} `json:"merge_commit"`
	} `json:"pullrequest"`
}

func parsePullRequest(action string, payload []byte) (events.Event, error) {
	var p prPayload
	if err := forge.Decode(payload, &p); err != nil {
		return nil, err
	}
	pr := p.PullRequest
	n := forge.PullRequest{
		Forge:         Name,
		Action:        action,
		Number:        pr.ID,
		FullName:      p.Repository.FullName,
		CloneURL:      p.Repository.cloneURL(),
		DefaultBranch: p.Repository.mainBranch(),
		HeadBranch:    pr.Source.Branch.Name,
		BaseBranch:    pr.Destination.Branch.Name,
		Title:         pr.Title,
		Author:        pr.Author.handle(),
	}
	if pr.Source.Commit != nil {
		n.HeadSHA = pr.Source.Commit.Hash
	}
	if src := pr.Source.Repository; src != nil {
		n.SourceFullName, n.SourceCloneURL, n.SourceDefaultBranch = src.FullName, src.cloneURL(), src.mainBranch()
	}
	if action == events.PRClosedMerged && pr.MergeCommit != nil {
		n.MergeSHA = pr.MergeCommit.Hash
	}
	return n.Normalise()
}
