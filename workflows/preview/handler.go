package preview

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/gate"
)

// Config configures the preview workflow.
type Config struct {
	// AllowForks builds pull requests whose head lives in another
	// repository.
	AllowForks bool
	// Retain is how long the record of a closed preview is kept (and its
	// environment checked empty) before it is forgotten; default a day.
	Retain time.Duration
	// LockTTL is the lease taken on a preview's environment lock while it
	// is removed; default 30s.
	LockTTL time.Duration
	// ReleasePreviews gives a preview to release pull requests too: those
	// from the branch `slipway release` makes (release/<env>-<sha12>),
	// which change only a pin file and whose commit staging ran already.
	ReleasePreviews bool
}

// Handler is the preview workflow. PullRequests and Locks are optional.
// Planner reads the head's slipway.yaml and plans its builds; Deploys
// prepares the deploy of a built head.
type Handler struct {
	Config       Config
	Planner      Planner
	Deploys      DeployRequester
	Publisher    Publisher
	Store        Store
	Target       Target
	Envs         EnvRecords
	PullRequests PullRequests
	Locks        deploy.Locks
	// Hosts, optional, releases the hosts a removed preview claimed.
	Hosts deploy.Hosts
	// Changes, optional, tells a release pull request, which gets no
	// preview (release.go).
	Changes Changes
	// Gate, optional, is what a preview waits for (the head's checks).
	Gate gate.Gate
	Now  func() time.Time
}

// HandlePullRequest opens, updates or removes the preview of a pull
// request.
func (h *Handler) HandlePullRequest(ctx context.Context, e *events.PullRequestChanged) error {
	switch e.Action {
	case events.PROpened, events.PRReopened, events.PRUpdated:
		return h.open(ctx, e)
	case events.PRClosedMerged:
		return h.closeEvent(ctx, e, events.RemovedMerged)
	case events.PRClosedUnmerged:
		return h.closeEvent(ctx, e, events.RemovedClosed)
	}
	return events.Ignored("pull request action %q", e.Action)
}

// open records the preview at the pull request's head and deploys the head
// when it is built, or requests its build.
func (h *Handler) open(ctx context.Context, e *events.PullRequestChanged) error {
	if fork(e) && !h.Config.AllowForks {
		return events.Ignored("pull request #%d comes from the fork %s: previews of forks are off", e.Number, e.SourceRepo.FullName)
	}
	m, err := h.Planner.Manifest(ctx, e.Repo, e.HeadSHA)
	if events.IsPermanent(err) {
		return h.Planner.FailCommit(ctx, e.Repo, e.HeadSHA, e.HeadBranch, err)
	}
	if err != nil {
		return err
	}
	tmpl, ok := template(m)
	if !ok {
		return events.Ignored("pull request #%d: slipway.yaml declares no previews", e.Number)
	}
	if env, ok := m.ReleaseOf(e.HeadBranch); ok && !h.Config.ReleasePreviews && !tmpl.ReleasePreviews {
		return events.Ignored("pull request #%d releases to %s (branch %s): no preview (-preview-releases or release_previews: true gives it one)", e.Number, env.Name, e.HeadBranch)
	}
	if rel, err := h.isRelease(ctx, e, m, tmpl); err != nil || rel {
		if err != nil {
			return err
		}
		return events.Ignored("pull request #%d changes only pin files: a release gets no preview (release_previews: true gives it one)", e.Number)
	}
	p, err := h.record(ctx, e, tmpl)
	if err != nil {
		return err
	}
	return h.deployOrBuild(ctx, p, e.DedupKey(), e.Author)
}

// record stores the preview as open at e's head: a new generation unless
// it is open already.
func (h *Handler) record(ctx context.Context, e *events.PullRequestChanged, tmpl manifest.Environment) (Preview, error) {
	p, found, err := h.Store.Get(ctx, e.Repo.FullName, e.Number)
	if err != nil {
		return p, err
	}
	if !found || !p.Open {
		p = Preview{Generation: p.Generation + 1}
	}
	p.Env, p.Repo, p.Number, p.Source = tmpl.PreviewName(e.Number), e.Repo, e.Number, e.SourceRepo
	p.HeadBranch, p.HeadSHA, p.Open, p.TTL, p.UpdatedAt = e.HeadBranch, e.HeadSHA, true, tmpl.TTL, h.now()
	if err := h.Store.Put(ctx, p); err != nil {
		return p, err
	}
	zerolog.Ctx(ctx).Info().Str("env", p.Env).Int("number", p.Number).Str("sha", p.HeadSHA).Int("generation", p.Generation).Msg("preview open")
	return p, nil
}

// deployOrBuild deploys the preview's head from its built images, or has
// the Planner request its builds; the commit-built event then brings it to
// HandleBuilt.
func (h *Handler) deployOrBuild(ctx context.Context, p Preview, trigger, actor string) error {
	req, err := h.Deploys.Request(ctx, p.Repo, manifest.Environment{Name: p.Env}, p.HeadSHA)
	if errors.Is(err, build.ErrNotBuilt) {
		zerolog.Ctx(ctx).Info().Str("env", p.Env).Str("sha", p.HeadSHA).Msg("preview head not built")
		return h.Planner.Plan(ctx, p.Repo, p.HeadSHA, p.HeadBranch)
	}
	if err != nil {
		return err
	}
	req.Ask(events.KindPreview, trigger, actor, strconv.Itoa(p.Generation))
	if open, err := h.admit(ctx, req); err != nil || !open {
		return err
	}
	if _, err := h.Publisher.Publish(ctx, req); err != nil {
		return fmt.Errorf("request deploy of %s: %w", p.Env, err)
	}
	return nil
}

// HandleBuilt deploys a built commit to every open preview whose head it
// is.
func (h *Handler) HandleBuilt(ctx context.Context, e *events.CommitBuilt) error {
	all, err := h.Store.List(ctx)
	if err != nil {
		return err
	}
	n := 0
	for _, p := range all {
		if !p.Open || !strings.EqualFold(p.Repo.FullName, e.Repo.FullName) || p.HeadSHA != e.Commit {
			continue
		}
		if err := h.deployOrBuild(ctx, p, e.DedupKey(), events.ActorSlipway); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return events.Ignored("commit %s heads no open preview", e.Commit)
	}
	return nil
}

// template returns the previews template of m.
func template(m *manifest.Manifest) (manifest.Environment, bool) {
	for _, e := range m.Environments() {
		if e.Follows == manifest.FollowsPullRequests {
			return e, true
		}
	}
	return manifest.Environment{}, false
}

// fork reports whether the head of e lives in another repository.
func fork(e *events.PullRequestChanged) bool {
	return e.SourceRepo.FullName != "" && !strings.EqualFold(e.SourceRepo.FullName, e.Repo.FullName)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
