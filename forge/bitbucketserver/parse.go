package bitbucketserver

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
)

// parse normalises the JSON payload of a delivery of kind eventType (the
// X-Event-Key header; the body's eventKey when the header is missing). base
// is the server's base URL, for payloads without clone links.
func parse(eventType string, payload []byte, base string) ([]events.Event, error) {
	var head struct {
		EventKey string `json:"eventKey"`
	}
	if err := forge.Decode(payload, &head); err != nil {
		return nil, err
	}
	eventType = cmp.Or(eventType, head.EventKey)
	switch {
	case eventType == "repo:refs_changed":
		return parseRefsChanged(payload, base)
	case strings.HasPrefix(eventType, "pr:"):
		action, ok := prActions[eventType]
		if !ok {
			return nil, forge.IgnoredEvent(eventType)
		}
		return forge.One(parsePullRequest(action, payload, base))
	case eventType == "diagnostics:ping":
		return nil, events.Ignored(forge.ReasonPing)
	case eventType == "":
		return nil, fmt.Errorf("%w: no %s header or eventKey", forge.ErrMalformed, headerEvent)
	}
	return nil, forge.IgnoredEvent(eventType)
}

// repository is a repository as Bitbucket Server payloads show it.
type repository struct {
	Slug    string `json:"slug"`
	Project struct {
		Key string `json:"key"`
	} `json:"project"`
	Links struct {
		Clone []struct {
			Href string `json:"href"`
			Name string `json:"name"`
		} `json:"clone"`
	} `json:"links"`
}

func (r *repository) fullName() string {
	if r.Project.Key == "" || r.Slug == "" {
		return ""
	}
	return r.Project.Key + "/" + r.Slug
}

// cloneURL is the http(s) clone link, or one built from the server's base
// URL the way Bitbucket Server serves git.
func (r *repository) cloneURL(base string) string {
	for _, l := range r.Links.Clone {
		if l.Name == "http" || l.Name == "https" {
			return l.Href
		}
	}
	if base == "" || r.fullName() == "" {
		return ""
	}
	return base + "/scm/" + strings.ToLower(r.Project.Key) + "/" + strings.ToLower(r.Slug) + ".git"
}

type user struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

type refsChanged struct {
	Actor      user       `json:"actor"`
	Repository repository `json:"repository"`
	Changes    []*struct {
		RefID string `json:"refId"`
		Ref   struct {
			ID string `json:"id"`
		} `json:"ref"`
		FromHash string `json:"fromHash"`
		ToHash   string `json:"toHash"`
		Type     string `json:"type"`
	} `json:"changes"`
}

// parseRefsChanged returns one event per branch or tag change.
func parseRefsChanged(payload []byte, base string) ([]events.Event, error) {
	var p refsChanged
	if err := forge.Decode(payload, &p); err != nil {
		return nil, err
	}
	if len(p.Changes) == 0 {
		return nil, fmt.Errorf("%w: repo:refs_changed without changes", forge.ErrMalformed)
	}
	clone := p.Repository.cloneURL(base)
	if clone == "" {
		return nil, errNoCloneURL
	}
	var evs []events.Event
	for _, c := range p.Changes {
		if c == nil {
			return nil, fmt.Errorf("%w: null change", forge.ErrMalformed)
		}
		e, err := forge.Push{
			Forge:    Name,
			FullName: p.Repository.fullName(),
			CloneURL: clone,
			Ref:      cmp.Or(c.Ref.ID, c.RefID),
			Before:   c.FromHash,
			After:    c.ToHash,
			Created:  c.Type == "ADD",
			Deleted:  c.Type == "DELETE",
			Pusher:   cmp.Or(p.Actor.Name, p.Actor.DisplayName),
		}.Normalise()
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

var errNoCloneURL = fmt.Errorf("%w: the payload has no clone link and no server base URL is configured", forge.ErrMalformed)

// prActions maps the pull request event keys Slipway acts on.
var prActions = map[string]string{
	"pr:opened":           events.PROpened,
	"pr:from_ref_updated": events.PRUpdated,
	"pr:merged":           events.PRClosedMerged,
	"pr:declined":         events.PRClosedUnmerged,
	"pr:deleted":          events.PRClosedUnmerged,
	"pr:reopened":         events.PRReopened,
}

type prRef struct {
	ID           string      `json:"id"`
	DisplayID    string      `json:"displayId"`
	LatestCommit string      `json:"latestCommit"`
	Repository   *repository `json:"repository"`
}

type prPayload struct {
	PullRequest struct {
		ID     int    `json:"id"`
		Title  string `json:"title"`
		Author struct {
			User user `json:"user"`
		} `json:"author"`
		FromRef    prRef `json:"fromRef"`
		ToRef      prRef `json:"toRef"`
		Properties struct {
			MergeCommit *struct {
				ID string `json:"id"`
			} `json:"mergeCommit"`
		} `json:"properties"`
	} `json:"pullRequest"`
}

func parsePullRequest(action string, payload []byte, base string) (events.Event, error) {
	var p prPayload
	if err := forge.Decode(payload, &p); err != nil {
		return nil, err
	}
	pr := p.PullRequest
	to := pr.ToRef.Repository
	if to == nil {
		return nil, fmt.Errorf("%w: pull request without toRef.repository", forge.ErrMalformed)
	}
	n := forge.PullRequest{
		Forge:      Name,
		Action:     action,
		Number:     pr.ID,
		FullName:   to.fullName(),
		CloneURL:   to.cloneURL(base),
		HeadSHA:    pr.FromRef.LatestCommit,
		HeadBranch: cmp.Or(pr.FromRef.DisplayID, strings.TrimPrefix(pr.FromRef.ID, forge.BranchPrefix)),
		BaseBranch: cmp.Or(pr.ToRef.DisplayID, strings.TrimPrefix(pr.ToRef.ID, forge.BranchPrefix)),
		Title:      pr.Title,
		Author:     cmp.Or(pr.Author.User.Name, pr.Author.User.DisplayName),
	}
	if n.CloneURL == "" {
		return nil, errNoCloneURL
	}
	if from := pr.FromRef.Repository; from != nil {
		n.SourceFullName, n.SourceCloneURL = from.fullName(), from.cloneURL(base)
	}
	if action == events.PRClosedMerged && pr.Properties.MergeCommit != nil {
		n.MergeSHA = pr.Properties.MergeCommit.ID
	}
	return n.Normalise()
}
