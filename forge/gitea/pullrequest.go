package gitea

import (
	"cmp"
	"fmt"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
)

// prPayload is the part of the Gitea/Forgejo/Gogs pull_request payload
// Slipway reads. Gogs has head_branch, base_branch and head_repo instead of
// head and base, and no head commit.
type prPayload struct {
	Action      string `json:"action"`
	Number      int    `json:"number"`
	PullRequest struct {
		Number         int    `json:"number"`
		Title          string `json:"title"`
		User           user   `json:"user"`
		Merged         bool   `json:"merged"`
		MergeCommitSHA string `json:"merge_commit_sha"`
		Head           struct {
			Ref    string      `json:"ref"`
			SHA    string      `json:"sha"`
			RepoID int64       `json:"repo_id"`
			Repo   *repository `json:"repo"`
		} `json:"head"`
		Base struct {
			Ref string `json:"ref"`
		} `json:"base"`
		HeadBranch string      `json:"head_branch"`
		BaseBranch string      `json:"base_branch"`
		HeadRepo   *repository `json:"head_repo"`
	} `json:"pull_request"`
	Repository repository `json:"repository"`
}

// prActions maps Gitea's actions onto Slipway's; closed is decided by
// pull_request.merged.
var prActions = map[string]string{
	"opened":       events.PROpened,
	"synchronized": events.PRUpdated,
	"reopened":     events.PRReopened,
	"closed":       events.PRClosedUnmerged,
}

func parsePullRequest(payload []byte) (events.Event, error) {
	var p prPayload
	if err := forge.Decode(payload, &p); err != nil {
		return nil, err
	}
	action, ok := prActions[p.Action]
	switch {
	case p.Action == "":
		return nil, fmt.Errorf("%w: pull_request without action", forge.ErrMalformed)
	case !ok:
		return nil, forge.IgnoredAction(p.Action)
	case p.PullRequest.Head.SHA == "" && p.PullRequest.HeadBranch != "":
		return nil, events.Ignored(forge.ReasonNoHeadCommit)
	}
	pr := p.PullRequest
	n := forge.PullRequest{
		Forge:         Name,
		Action:        action,
		Number:        cmp.Or(p.Number, pr.Number),
		FullName:      p.Repository.FullName,
		CloneURL:      p.Repository.CloneURL,
		DefaultBranch: p.Repository.DefaultBranch,
		HeadSHA:       pr.Head.SHA,
		HeadBranch:    cmp.Or(pr.Head.Ref, pr.HeadBranch),
		BaseBranch:    cmp.Or(pr.Base.Ref, pr.BaseBranch),
		Title:         pr.Title,
		Author:        pr.User.handle(),
	}
	if src := p.source(); src != nil {
		n.SourceFullName, n.SourceCloneURL, n.SourceDefaultBranch = src.FullName, src.CloneURL, src.DefaultBranch
	}
	if action == events.PRClosedUnmerged && pr.Merged {
		n.Action, n.MergeSHA = events.PRClosedMerged, pr.MergeCommitSHA
	}
	return n.Normalise()
}

// source is the repository of the head branch. Gitea leaves head.repo out of
// some payloads; a head in the repository itself is then recognised by its
// id.
func (p *prPayload) source() *repository {
	pr := p.PullRequest
	switch {
	case pr.Head.Repo != nil:
		return pr.Head.Repo
	case pr.HeadRepo != nil:
		return pr.HeadRepo
	case pr.Head.RepoID != 0 && pr.Head.RepoID == p.Repository.ID:
		return &p.Repository
	}
	return nil
}
