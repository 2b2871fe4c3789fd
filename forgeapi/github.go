package forgeapi

import (
	"context"
	"fmt"
	"net/url"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/notify"
)

// GitHub is the REST API of GitHub and GitHub Enterprise
// (base https://<host>/api/v3).
type GitHub struct{ githubShaped }

// Gitea is the REST API of Gitea, Forgejo and Gogs (base https://<host>),
// shaped like GitHub's under /api/v1.
type Gitea struct{ githubShaped }

var (
	_ Client = (*GitHub)(nil)
	_ Client = (*Gitea)(nil)
)

func newGitHub(h *api) *GitHub {
	return &GitHub{githubShaped{api: h, prefix: "/repos/", canceled: "error", maxDescription: 140}}
}

func newGitea(h *api) *Gitea {
	return &Gitea{githubShaped{api: h, prefix: "/api/v1/repos/", canceled: "warning", maxDescription: 255}}
}

// githubShaped is a REST API with GitHub's statuses, issue comments and pull
// requests: what differs between the hosts that speak it are the path
// prefix, the state a cancelled step is shown as, and the description limit.
type githubShaped struct {
	*api
	prefix         string
	canceled       string
	maxDescription int
}

func (g *githubShaped) repoPath(repo events.Repo) (string, error) {
	owner, name, err := ownerName(repo.FullName)
	if err != nil {
		return "", err
	}
	return g.prefix + url.PathEscape(owner) + "/" + url.PathEscape(name), nil
}

// PostStatus implements Client: POST <prefix>{owner}/{repo}/statuses/{sha}.
func (g *githubShaped) PostStatus(ctx context.Context, s notify.Status) error {
	p, err := g.repoPath(s.Repo)
	if err != nil {
		return err
	}
	state := map[notify.State]string{notify.Pending: "pending", notify.Success: "success", notify.Failure: "failure", notify.Canceled: g.canceled}[s.State]
	return g.call(ctx, "POST", p+"/statuses/"+url.PathEscape(s.SHA), map[string]string{
		"state": state, "context": s.Context, "description": clip(s.Description, g.maxDescription), "target_url": s.TargetURL,
	}, nil)
}

// Comment implements Client: POST <prefix>{owner}/{repo}/issues/{n}/comments.
func (g *githubShaped) Comment(ctx context.Context, repo events.Repo, number int, body string) error {
	p, err := g.repoPath(repo)
	if err != nil {
		return err
	}
	return g.call(ctx, "POST", fmt.Sprintf("%s/issues/%d/comments", p, number), map[string]string{"body": body}, nil)
}

// PullRequestOpen implements Client: GET <prefix>{owner}/{repo}/pulls/{n}.
func (g *githubShaped) PullRequestOpen(ctx context.Context, repo events.Repo, number int) (bool, error) {
	p, err := g.repoPath(repo)
	if err != nil {
		return false, err
	}
	var pr struct {
		State string `json:"state"`
	}
	if err := g.call(ctx, "GET", fmt.Sprintf("%s/pulls/%d", p, number), nil, &pr); err != nil {
		return false, err
	}
	return pr.State == "open", nil
}
