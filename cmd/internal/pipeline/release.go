package pipeline

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/gitmirror"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/checks"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/freeze"
	"github.com/slipway-dev/slipway/workflows/notify"
	"github.com/slipway-dev/slipway/workflows/preview"
	"github.com/slipway-dev/slipway/workflows/release"
)

// ReleaseConfig configures the environments of the repositories: releases
// and pull request previews.
type ReleaseConfig struct {
	// PreviewReconcile is how often previews of closed pull requests and
	// previews past their ttl are looked for (default a minute).
	PreviewReconcile time.Duration
	// PreviewForks builds and deploys pull requests from forks.
	PreviewForks bool
	// PreviewRetain is how long a closed preview's record is kept.
	PreviewRetain time.Duration
	// PreviewReleases gives release pull requests a preview too.
	PreviewReleases bool
	// ForgeTokens are the API tokens of git host kinds, ForgeAPIs their
	// API base URLs: with a token, results are posted as commit statuses,
	// plans as pull request comments, and previews ask the API whether
	// their pull request is open.
	ForgeTokens, ForgeAPIs ForgeSettings
}

// Bind binds the settings to fs.
func (r *ReleaseConfig) Bind(fs *flag.FlagSet) {
	fs.DurationVar(&r.PreviewReconcile, "preview-reconcile", time.Minute, "how often previews of closed pull requests and idle previews are removed")
	fs.BoolVar(&r.PreviewForks, "preview-forks", false, "build and deploy previews of pull requests from forks (their Dockerfiles run on the builders)")
	fs.BoolVar(&r.PreviewReleases, "preview-releases", false, "give release pull requests (from the branches slipway release makes) a preview too")
	fs.DurationVar(&r.PreviewRetain, "preview-retain", 24*time.Hour, "how long the record of a closed preview is kept")
	r.ForgeTokens.secret = true
	fs.Var(&r.ForgeTokens, "forge-token", "kind=token: API token of a git host kind (github, gitea, forgejo, gitlab, bitbucket) for commit statuses, plan comments and pull request state (repeat)")
	fs.Var(&r.ForgeAPIs, "forge-api", "kind=url: API of a git host kind, its root or its API URL (gitea=https://git.example.com or …/api/v1; GitHub Enterprise https://<host>/api/v3; default the public service, for Gitea and Forgejo the repository's host); checked once at start")
}

func (r ReleaseConfig) reconcileEvery() time.Duration {
	if r.PreviewReconcile > 0 {
		return r.PreviewReconcile
	}
	return time.Minute
}

// ReleaseWorkflows are the release and preview workflows of a deployer.
type ReleaseWorkflows struct {
	Release *release.Handler
	Preview *preview.Handler
	Notify  *notify.Handler
	// Redrive hands a built commit to Release and Preview again when its
	// last check finished; Freezes are the environments' freezes.
	Redrive *checks.Redrive
	Freezes freeze.Store
	every   time.Duration
	forges  *forgeClients
	mirror  *gitmirror.Mirror
}

// NewReleaseWorkflows wires the release and preview workflows to JetStream,
// a git mirror of their own (<mirror-dir>/release) and target. locks are the
// deploy workflow's environment locks (may be nil).
func NewReleaseWorkflows(ctx context.Context, cfg *Config, c *Conn, target preview.Target, locks deploy.Locks) (*ReleaseWorkflows, error) {
	return newReleaseWorkflows(ctx, cfg, c, target, locks, nil)
}

// newReleaseWorkflows is NewReleaseWorkflows planning builds with p, or
// with a planner reading through their own mirror when p is nil.
func newReleaseWorkflows(ctx context.Context, cfg *Config, c *Conn, target preview.Target, locks deploy.Locks, p *Planning) (*ReleaseWorkflows, error) {
	claims, err := c.claims(ctx)
	if err != nil {
		return nil, err
	}
	envs, err := c.Envs(ctx)
	if err != nil {
		return nil, err
	}
	kv, err := c.JS.KeyValue(ctx, natsjs.BucketPreviews)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", natsjs.BucketPreviews, err)
	}
	mirror, err := cfg.newMirror(filepath.Join(cfg.mirrorDir(), "release"))
	if err != nil {
		return nil, err
	}
	if p == nil {
		p = &Planning{Mirror: mirror, Planner: newPlanner(cfg, c, mirror, releaseSource)}
	}
	history, err := c.FreshReadModel(ctx)
	if err != nil {
		return nil, err
	}
	pub := cfg.observed(natsjs.NewPublisher(c.JS, releaseSource))
	forges := newForgeClients(&cfg.Release)
	w := &ReleaseWorkflows{
		Release: &release.Handler{
			Config: release.Config{StagingEnv: cfg.StagingEnv}, Source: mirror, Planner: p.Planner, Claims: claims, Publisher: pub,
			Envs: envs, Log: mirror, History: history,
		},
		Preview: &preview.Handler{
			Config:       preview.Config{AllowForks: cfg.Release.PreviewForks, Retain: cfg.Release.PreviewRetain, LockTTL: cfg.ClaimTTL, ReleasePreviews: cfg.Release.PreviewReleases},
			Planner:      p.Planner,
			Publisher:    pub,
			Store:        natsstore.NewPreviewStore(kv),
			Target:       target,
			Envs:         envs,
			PullRequests: pullRequests{f: forges, fallback: preview.BranchCheck{Branches: mirror}},
			Locks:        locks,
			Changes:      mirror,
		},
		Notify: &notify.Handler{Hosts: forges.hosts},
		every:  cfg.Release.reconcileEvery(),
		forges: forges,
		mirror: mirror,
	}
	w.Preview.Deploys = w.Release
	fkv, err := c.JS.KeyValue(ctx, natsjs.BucketFreezes)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", natsjs.BucketFreezes, err)
	}
	w.Freezes = natsstore.NewFreezeStore(fkv)
	w.gates(claims, &freeze.Gate{Store: w.Freezes})
	return w, w.Release.Config.Validate()
}

// releaseSource is the CloudEvents source of what the release and preview
// workflows publish.
const releaseSource = "/slipway/release"

// Routes are the consumers of the release and preview workflows, besides
// the commit-built one the deployer routes to Release.HandleBuilt.
func (w *ReleaseWorkflows) Routes() []natsjs.Route {
	return routes(partRelease, handlers{release: w})
}

// Run consumes the routes with r and reconciles previews periodically until
// ctx ends.
func (w *ReleaseWorkflows) Run(ctx context.Context, r *natsjs.Runner) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return r.Run(ctx, w.Routes()...) })
	g.Go(func() error { return w.reconcile(ctx) })
	g.Go(func() error { return w.Notify.Run(ctx) })
	g.Go(func() error { w.forges.check(ctx); return nil })
	g.Go(func() error { return w.sweepFreezes(ctx) })
	return g.Wait()
}

// reconcile runs Preview.Reconcile every interval; a failure is logged and
// tried again at the next tick.
func (w *ReleaseWorkflows) reconcile(ctx context.Context) error {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := w.Preview.Reconcile(ctx); err != nil && ctx.Err() == nil {
			logger(ctx).Warn().Err(err).Msg("preview reconcile")
		}
	}
}

// freezeSweep is how often freezes past their expiry are ended.
const freezeSweep = 5 * time.Second

// sweepFreezes ends the freezes past their expiry every freezeSweep,
// publishing what they held (freeze.Sweep), until ctx ends.
func (w *ReleaseWorkflows) sweepFreezes(ctx context.Context) error {
	t := time.NewTicker(freezeSweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		ended, err := freeze.Sweep(ctx, w.Freezes, w.Release.Publisher, time.Now())
		if err != nil && ctx.Err() == nil {
			logger(ctx).Warn().Err(err).Msg("freeze sweep")
		}
		for _, f := range ended {
			logger(ctx).Info().Str("repo", f.Repo).Str("env", f.Env).Bool("held", f.Held != nil).Msg("freeze expired")
		}
	}
}
