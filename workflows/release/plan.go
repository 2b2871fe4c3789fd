package release

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// defaultPlanCommits is how many commits a plan lists by default.
const defaultPlanCommits = 50

// HandlePullRequest publishes the release plan of a pull request opened or
// updated with a pin file naming another commit than its environment runs.
func (h *Handler) HandlePullRequest(ctx context.Context, e *events.PullRequestChanged) error {
	switch e.Action {
	case events.PROpened, events.PRUpdated, events.PRReopened:
	default:
		return events.Ignored("pull request %s: no plan to make", e.Action)
	}
	if e.BaseBranch != "" && e.BaseBranch != e.Repo.DefaultBranch {
		return events.Ignored("pull request into %q: releases merge into %q", e.BaseBranch, e.Repo.DefaultBranch)
	}
	m, envs, err := h.environments(ctx, e.Repo, e.HeadSHA)
	if events.IsPermanent(err) {
		return events.Ignored("pull request #%d: %v", e.Number, err)
	}
	if err != nil {
		return err
	}
	planned := 0
	for _, env := range envs {
		if env.Follows != manifest.FollowsPin {
			continue
		}
		to, err := ReadPin(ctx, h.Source, e.Repo, e.HeadSHA, env.Pin)
		if err != nil && !events.IsPermanent(err) {
			return err
		}
		if to == "" {
			continue
		}
		p, err := h.Plan(ctx, e.Repo, env, Environments(m, h.Config.StagingEnv), to)
		if err != nil {
			return err
		}
		if p.From == p.To {
			continue
		}
		p.Number, p.HeadSHA = e.Number, e.HeadSHA
		if err := h.planProvision(ctx, p, env.Target); err != nil {
			return err
		}
		if _, err := h.Publisher.Publish(ctx, p); err != nil {
			return fmt.Errorf("publish the plan of #%d: %w", e.Number, err)
		}
		zerolog.Ctx(ctx).Info().Str("env", env.Name).Int("number", e.Number).Str("from", p.From).Str("to", p.To).
			Strs("problems", p.Problems).Msg("release planned")
		planned++
	}
	if planned == 0 {
		return events.Ignored("pull request #%d changes no pin file", e.Number)
	}
	return nil
}

// Plan computes what deploying to to env changes: per service the digest
// it runs now and the one it would run, the commits in between, and the
// problems that would stop the release. envs are the repository's
// environments, for the staging check.
func (h *Handler) Plan(ctx context.Context, repo events.Repo, env manifest.Environment, envs []manifest.Environment, to string) (*events.ReleasePlanned, error) {
	p := &events.ReleasePlanned{Env: env.Name, Repo: repo, To: to, PlannedAt: h.now().UTC()}
	var cur deploy.State
	if h.Envs != nil {
		st, ok, err := h.Envs.Get(ctx, repo.FullName, env.Name)
		if err != nil {
			return nil, err
		}
		if ok {
			cur, p.From = st, st.Commit
		}
	}
	req, err := h.Request(ctx, repo, env, to)
	switch {
	case errors.Is(err, build.ErrNotBuilt):
		p.Problems = append(p.Problems, fmt.Sprintf("%s was never built", short(to)))
	case events.IsPermanent(err):
		p.Problems = append(p.Problems, err.Error())
	case err != nil:
		return nil, err
	}
	var next []events.Image
	if req != nil {
		next = req.Images
	}
	p.Services = Changes(cur.Images, next)
	if req != nil {
		h.checkParity(ctx, p, req, envs)
	}
	if err := h.checkStaging(ctx, p, envs); err != nil {
		return nil, err
	}
	if err := h.commits(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// checkStaging adds a problem when to never ran healthy on the staging
// environment (the first one following the default branch).
func (h *Handler) checkStaging(ctx context.Context, p *events.ReleasePlanned, envs []manifest.Environment) error {
	staging := StagingOf(envs, p.Repo.DefaultBranch)
	if h.History == nil || staging == "" {
		return nil
	}
	deploys, err := h.History.Deploys(ctx, p.Repo.FullName, staging)
	if err != nil {
		return err
	}
	if err := CheckHealthy(deploys, staging, p.To); err != nil {
		p.Problems = append(p.Problems, err.Error())
	}
	return nil
}

// commits lists the commits the release adds (or, going back, removes).
func (h *Handler) commits(ctx context.Context, p *events.ReleasePlanned) error {
	if h.Log == nil {
		return nil
	}
	limit := h.Config.PlanCommits
	if limit <= 0 {
		limit = defaultPlanCommits
	}
	commits, n, err := h.Log.Log(ctx, p.Repo, p.From, p.To, limit)
	if err != nil && !events.IsPermanent(err) {
		return err
	}
	if err != nil {
		p.Problems = append(p.Problems, err.Error())
		return nil
	}
	if n == 0 && p.From != "" {
		// Nothing new: the pinned commit precedes the running one.
		p.Backwards = true
		commits, n, err = h.Log.Log(ctx, p.Repo, p.To, p.From, limit)
		if err != nil && !events.IsPermanent(err) {
			return err
		}
	}
	p.Commits, p.CommitCount = commits, n
	return nil
}

// StagingOf returns the name of the first environment following the
// default branch, or "".
func StagingOf(envs []manifest.Environment, defaultBranch string) string {
	if defaultBranch == "" {
		defaultBranch = "main"
	}
	for _, e := range envs {
		if e.FollowsBranchOf(defaultBranch, defaultBranch) {
			return e.Name
		}
	}
	return ""
}

// Changes compares the images an environment runs with those it would run,
// service by service, sorted by name.
func Changes(from, to []events.Image) []events.ServiceChange {
	byName := map[string]*events.ServiceChange{}
	for _, img := range from {
		byName[img.Service.Name] = &events.ServiceChange{Service: img.Service.Name, From: img.Digest, Change: events.ChangeRemoved}
	}
	for _, img := range to {
		c, ok := byName[img.Service.Name]
		if !ok {
			byName[img.Service.Name] = &events.ServiceChange{Service: img.Service.Name, To: img.Digest, Change: events.ChangeAdded}
			continue
		}
		c.To, c.Change = img.Digest, events.ChangeUpdated
		if c.From == c.To {
			c.Change = events.ChangeUnchanged
		}
	}
	out := make([]events.ServiceChange, 0, len(byName))
	for _, c := range byName {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Service < out[j].Service })
	return out
}
