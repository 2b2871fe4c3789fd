package forgeapi

import (
	"context"
	"fmt"
	"net/url"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/notify"
)

// GitLab is the REST API (v4) of GitLab.com and self-managed GitLab (base
// https://<host>).
type GitLab struct{ *api }

var _ Client = (*GitLab)(nil)

func (g *GitLab) project(repo events.Repo) (string, error) {
	if _, _, err := ownerName(repo.FullName); err != nil {
		return "", err
	}
	return "/api/v4/projects/" + url.PathEscape(repo.FullName), nil
}

// PostStatus implements Client: POST /api/v4/projects/{path}/statuses/{sha}.
func (g *GitLab) PostStatus(ctx context.Context, s notify.Status) error {
	p, err := g.project(s.Repo)
	if err != nil {
		return err
	}
	state := map[notify.State]string{notify.Pending: "pending", notify.Success: "success", notify.Failure: "failed", notify.Canceled: "canceled"}[s.State]
	return g.call(ctx, "POST", p+"/statuses/"+url.PathEscape(s.SHA), map[string]string{
		"state": state, "name": s.Context, "description": clip(s.Description, 255), "target_url": s.TargetURL,
	}, nil)
}

// Comment implements Client: a note on merge request number.
func (g *GitLab) Comment(ctx context.Context, repo events.Repo, number int, body string) error {
	p, err := g.project(repo)
	if err != nil {
		return err
	}
	return g.call(ctx, "POST", fmt.Sprintf("%s/merge_requests/%d/notes", p, number), map[string]string{"body": body}, nil)
}

// PullRequestOpen implements Client: GET /api/v4/projects/{path}/merge_requests/{iid}.
func (g *GitLab) PullRequestOpen(ctx context.Context, repo events.Repo, number int) (bool, error) {
	p, err := g.project(repo)
	if err != nil {
		return false, err
	}
	var mr struct {
		State string `json:"state"`
	}
	if err := g.call(ctx, "GET", fmt.Sprintf("%s/merge_requests/%d", p, number), nil, &mr); err != nil {
		return false, err
	}
	return mr.State == "opened", nil
}
