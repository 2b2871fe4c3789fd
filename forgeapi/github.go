package forgeapi

import (
	"context"
	"fmt"
	"net/url"

	"github.com/slipway-dev/slipway/events"
)

// GitHub is the REST API of GitHub and GitHub Enterprise
// (base https://<host>/api/v3).
type GitHub struct{ *api }

var _ Client = (*GitHub)(nil)

func (g *GitHub) repoPath(repo events.Repo) (string, error) {
	owner, name, err := ownerName(repo.FullName)
	if err != nil {
		return "", err
	}
	return "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name), nil
}

// PostStatus implements Client: POST /repos/{owner}/{repo}/statuses/{sha}.
func (g *GitHub) PostStatus(ctx context.Context, s Status) error {
	p, err := g.repoPath(s.Repo)
	if err != nil {
		return err
	}
	state := map[State]string{Pending: "pending", Success: "success", Failure: "failure", Canceled: "error"}[s.State]
	return g.call(ctx, "POST", p+"/statuses/"+url.PathEscape(s.SHA), map[string]string{
		"state": state, "context": s.Context, "description": clip(s.Description, 140), "target_url": s.TargetURL,
	}, nil)
}

// Comment implements Client: POST /repos/{owner}/{repo}/issues/{n}/comments.
func (g *GitHub) Comment(ctx context.Context, repo events.Repo, number int, body string) error {
	p, err := g.repoPath(repo)
	if err != nil {
		return err
	}
	return g.call(ctx, "POST", fmt.Sprintf("%s/issues/%d/comments", p, number), map[string]string{"body": body}, nil)
}

// PullRequestOpen implements Client: GET /repos/{owner}/{repo}/pulls/{n}.
func (g *GitHub) PullRequestOpen(ctx context.Context, repo events.Repo, number int) (bool, error) {
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
