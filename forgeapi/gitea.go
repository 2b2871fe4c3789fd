package forgeapi

import (
	"context"
	"fmt"
	"net/url"

	"github.com/slipway-dev/slipway/events"
)

// Gitea is the REST API of Gitea, Forgejo and Gogs (base https://<host>).
type Gitea struct{ *api }

var _ Client = (*Gitea)(nil)

func (g *Gitea) repoPath(repo events.Repo) (string, error) {
	owner, name, err := ownerName(repo.FullName)
	if err != nil {
		return "", err
	}
	return "/api/v1/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name), nil
}

// PostStatus implements Client: POST /api/v1/repos/{owner}/{repo}/statuses/{sha}.
func (g *Gitea) PostStatus(ctx context.Context, s Status) error {
	p, err := g.repoPath(s.Repo)
	if err != nil {
		return err
	}
	state := map[State]string{Pending: "pending", Success: "success", Failure: "failure", Canceled: "warning"}[s.State]
	return g.call(ctx, "POST", p+"/statuses/"+url.PathEscape(s.SHA), map[string]string{
		"state": state, "context": s.Context, "description": clip(s.Description, 255), "target_url": s.TargetURL,
	}, nil)
}

// Comment implements Client: POST /api/v1/repos/{owner}/{repo}/issues/{n}/comments.
func (g *Gitea) Comment(ctx context.Context, repo events.Repo, number int, body string) error {
	p, err := g.repoPath(repo)
	if err != nil {
		return err
	}
	return g.call(ctx, "POST", fmt.Sprintf("%s/issues/%d/comments", p, number), map[string]string{"body": body}, nil)
}

// PullRequestOpen implements Client: GET /api/v1/repos/{owner}/{repo}/pulls/{n}.
func (g *Gitea) PullRequestOpen(ctx context.Context, repo events.Repo, number int) (bool, error) {
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
