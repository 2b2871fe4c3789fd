package forgeapi

import (
	"context"
	"fmt"
	"net/url"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/notify"
)

// Bitbucket is the REST API (2.0) of Bitbucket Cloud (base
// https://api.bitbucket.org).
type Bitbucket struct{ *api }

var _ Client = (*Bitbucket)(nil)

func (b *Bitbucket) repoPath(repo events.Repo) (string, error) {
	ws, slug, err := ownerName(repo.FullName)
	if err != nil {
		return "", err
	}
	return "/2.0/repositories/" + url.PathEscape(ws) + "/" + url.PathEscape(slug), nil
}

// PostStatus implements Client: POST .../commit/{sha}/statuses/build. The
// key is the context (at most 40 characters); Bitbucket wants a URL.
func (b *Bitbucket) PostStatus(ctx context.Context, s notify.Status) error {
	p, err := b.repoPath(s.Repo)
	if err != nil {
		return err
	}
	state := map[notify.State]string{notify.Pending: "INPROGRESS", notify.Success: "SUCCESSFUL", notify.Failure: "FAILED", notify.Canceled: "STOPPED"}[s.State]
	target := s.TargetURL
	if target == "" {
		target = "https://bitbucket.org/" + s.Repo.FullName + "/commits/" + s.SHA
	}
	return b.call(ctx, "POST", p+"/commit/"+url.PathEscape(s.SHA)+"/statuses/build", map[string]string{
		"key": clip(s.Context, 40), "name": s.Context, "state": state, "description": clip(s.Description, 255), "url": target,
	}, nil)
}

// Comment implements Client: POST .../pullrequests/{id}/comments.
func (b *Bitbucket) Comment(ctx context.Context, repo events.Repo, number int, body string) error {
	p, err := b.repoPath(repo)
	if err != nil {
		return err
	}
	return b.call(ctx, "POST", fmt.Sprintf("%s/pullrequests/%d/comments", p, number), map[string]any{"content": map[string]string{"raw": body}}, nil)
}

// PullRequestOpen implements Client: GET .../pullrequests/{id}.
func (b *Bitbucket) PullRequestOpen(ctx context.Context, repo events.Repo, number int) (bool, error) {
	p, err := b.repoPath(repo)
	if err != nil {
		return false, err
	}
	var pr struct {
		State string `json:"state"`
	}
	if err := b.call(ctx, "GET", fmt.Sprintf("%s/pullrequests/%d", p, number), nil, &pr); err != nil {
		return false, err
	}
	return pr.State == "OPEN", nil
}
