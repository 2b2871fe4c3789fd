package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/gitclone"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/readmodel"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/release"
)

// releaseOptions are the settings of `slipway release` and `slipway plan`.
type releaseOptions struct {
	RepoDir    string // the local clone
	Env        string // the pinned environment; default the first one
	Remote     string // push the release branch there when set
	Base       string // the branch the release pull request merges into
	Branch     string // the release branch; default release/<env>-<sha12>
	Repo       string // owner/name; default read from the staging history
	StagingEnv string // staging's name when slipway.yaml declares none
}

func (o *releaseOptions) bind(fs *flag.FlagSet, withBranch bool) {
	fs.StringVar(&o.RepoDir, "repo-dir", ".", "the local clone of the repository")
	fs.StringVar(&o.Env, "env", "", "the environment to release to (default: the first one following a pin file)")
	fs.StringVar(&o.Repo, "repo", "", "the repository as owner/name (default: the only one with environments)")
	fs.StringVar(&o.StagingEnv, "staging-env", "staging", "the environment following the default branch when slipway.yaml declares none")
	if withBranch {
		fs.StringVar(&o.Remote, "remote", "", "push the release branch to this remote (a name such as origin, or a URL)")
		fs.StringVar(&o.Base, "base", "", "the branch the release pull request merges into (default: the remote's default branch, or main)")
		fs.StringVar(&o.Branch, "branch", "", "the release branch (default: release/<env>-<sha12>)")
	}
}

func releaseCommand() *ffcli.Command {
	var o releaseOptions
	fs := flag.NewFlagSet("slipway release", flag.ContinueOnError)
	n := bindOperatorNATS(fs)
	o.bind(fs, true)
	a := bindAPI(fs)
	reason := fs.String("reason", "", "with -api: why, recorded with the release request")
	wait := fs.Duration("wait", 5*time.Minute, "with -api: how long to wait for the deploy's result; 0 does not wait")
	return &ffcli.Command{
		Name:       "release",
		ShortUsage: "slipway release [flags] <commit>",
		ShortHelp:  "write the pin file of a release on a new branch, ready to open as the release pull request",
		LongHelp: "Refuses a commit that was never built or never ran healthy on staging. The branch is made in the\n" +
			"local clone without touching its working tree, and pushed with -remote. Merging the pull request\n" +
			"deploys the pinned commit from the images already built.\n\n" +
			"With -api (and -env), asks Slipway's HTTP API to release the commit instead: no pin file, no\n" +
			"push; the same checks, then the deploy, recorded with the API token's name.",
		FlagSet: fs,
		Options: pipeline.Options(),
		Exec: func(ctx context.Context, args []string) (err error) {
			if len(args) != 1 {
				return usagef("want one commit")
			}
			if a.on() {
				return releaseOverAPI(ctx, a, o, args[0], *reason, *wait, os.Stdout)
			}
			return n.with("slipway-release", func(c *pipeline.Conn) error {
				_, err := releaseCommit(ctx, c, args[0], o, os.Stdout)
				return err
			})
		},
	}
}

// releaseOverAPI asks the API to release commit to o.Env of o.Repo
// (POST .../envs/{env}/release): the local clone is not read.
func releaseOverAPI(ctx context.Context, a *apiClient, o releaseOptions, commit, reason string, wait time.Duration, out io.Writer) error {
	if o.Env == "" {
		return usagef("-api needs -env: the environment to release to")
	}
	repo, err := a.repo(ctx, o.Repo)
	if err != nil {
		return err
	}
	_, err = a.action(ctx, envPath(repo, o.Env)+"/release", api.ReleaseRequest{Commit: commit, Reason: reason, Wait: waitOf(deliberate{Wait: wait})}, out)
	return err
}

// releaseTarget is what a release is about, read from the local clone.
type releaseTarget struct {
	clone   *gitclone.Clone
	sha     string
	m       *manifest.Manifest
	envs    []manifest.Environment
	env     manifest.Environment
	staging string
	repo    events.Repo
}

// resolveRelease reads the commit, its environments and the repository.
func resolveRelease(ctx context.Context, c *pipeline.Conn, rev string, o releaseOptions) (*releaseTarget, error) {
	clone, err := gitclone.Open(ctx, o.RepoDir)
	if err != nil {
		return nil, err
	}
	t := &releaseTarget{clone: clone}
	if t.sha, err = clone.Resolve(ctx, rev); err != nil {
		return nil, err
	}
	if o.Base == "" {
		o.Base = clone.DefaultBranch(ctx, o.Remote)
	}
	if t.m, err = release.ReadManifest(ctx, clone, events.Repo{}, t.sha); err != nil {
		return nil, fmt.Errorf("commit %s: %w", t.sha[:12], err)
	}
	t.envs = release.Environments(t.m, o.StagingEnv)
	if t.env, err = pinnedEnv(t.envs, o.Env); err != nil {
		return nil, err
	}
	t.staging = release.StagingOf(t.envs, o.Base)
	repo, err := chooseRepo(ctx, c, o.Repo)
	if err != nil {
		return nil, err
	}
	t.repo = events.Repo{FullName: repo, DefaultBranch: o.Base}
	return t, nil
}

// pinnedEnv returns the environment called name, or the first following a
// pin file.
func pinnedEnv(envs []manifest.Environment, name string) (manifest.Environment, error) {
	for _, e := range envs {
		if e.Follows == manifest.FollowsPin && (name == "" || e.Name == name) {
			return e, nil
		}
	}
	if name != "" {
		return manifest.Environment{}, fmt.Errorf("slipway.yaml declares no environment %q following a pin file", name)
	}
	return manifest.Environment{}, errors.New("slipway.yaml declares no environment following a pin file")
}

// releaseCommit checks that rev may be released, writes its pin file on a
// new branch, pushes it when a remote is given, and prints the plan.
func releaseCommit(ctx context.Context, c *pipeline.Conn, rev string, o releaseOptions, out io.Writer) (string, error) {
	t, err := resolveRelease(ctx, c, rev, o)
	if err != nil {
		return "", err
	}
	claims, err := c.Claims(ctx)
	if err != nil {
		return "", err
	}
	history, err := c.FreshReadModel(ctx)
	if err != nil {
		return "", err
	}
	if t.repo.FullName == "" {
		return "", fmt.Errorf("refusing %s: nothing ever ran on %s: %w", t.sha[:12], t.staging, release.ErrNotReleasable)
	}
	if err := release.CheckChecks(ctx, claims, t.repo.FullName, t.sha, t.m.Checks()); err != nil {
		return "", fmt.Errorf("refusing to release: %w", err)
	}
	if err := release.CheckReleasable(ctx, claims, history, t.repo.FullName, t.sha, t.m.Names(), t.staging); err != nil {
		return "", fmt.Errorf("refusing to release: %w", err)
	}
	branch := o.Branch
	if branch == "" {
		branch = t.env.ReleaseBranch(t.sha)
	}
	base := t.repo.DefaultBranch
	msg := fmt.Sprintf("Release %s to %s\n\nPinned by `slipway release`: merging this deploys the images built for\n%s, without building again.\n", t.sha[:12], t.env.Name, t.sha)
	commit, err := t.clone.CommitFile(ctx, branch, base, t.env.Pin, manifest.FormatPin(t.env.Name, t.sha), msg)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(out, "==> %s pins %s to %s on branch %s (commit %s, from %s)\n", t.env.Pin, t.env.Name, t.sha[:12], branch, commit[:12], base)
	if o.Remote != "" {
		if err := t.clone.Push(ctx, o.Remote, branch); err != nil {
			return branch, err
		}
		fmt.Fprintf(out, "==> pushed %s to %s: open a pull request from it into %s\n", branch, o.Remote, base)
	} else {
		fmt.Fprintf(out, "==> push it (git push <remote> %s) and open a pull request into %s\n", branch, base)
	}
	p, err := localPlan(ctx, c, t)
	if err != nil {
		return branch, err
	}
	fmt.Fprintln(out)
	return branch, release.WriteText(out, p)
}

// localPlan computes the plan of deploying t.sha to t.env from the local
// clone and what Slipway recorded.
func localPlan(ctx context.Context, c *pipeline.Conn, t *releaseTarget) (*events.ReleasePlanned, error) {
	claims, err := c.Claims(ctx)
	if err != nil {
		return nil, err
	}
	envs, err := c.Envs(ctx)
	if err != nil {
		return nil, err
	}
	history, err := c.FreshReadModel(ctx)
	if err != nil {
		return nil, err
	}
	secretVersions, err := c.Secrets(ctx, nil)
	if err != nil {
		return nil, err
	}
	h := &release.Handler{Source: t.clone, Planner: &build.Planner{Source: t.clone}, Claims: claims, Envs: envs, Log: t.clone, History: history, Secrets: secretVersions}
	return h.Plan(ctx, t.repo, t.env, t.envs, t.sha)
}

func planCommand() *ffcli.Command {
	var o releaseOptions
	fs := flag.NewFlagSet("slipway plan", flag.ContinueOnError)
	n := bindOperatorNATS(fs)
	commit := fs.String("commit", "", "plan the release of this commit from the local clone, instead of showing the open release pull request's plan")
	o.bind(fs, false)
	return &ffcli.Command{
		Name:       "plan",
		ShortUsage: "slipway plan [flags] <env> [-repo owner/name]",
		ShortHelp:  "show the release plan of an environment: per service the digest now and after, the commits in between",
		FlagSet:    fs,
		Options:    pipeline.Options(),
		Exec: func(ctx context.Context, args []string) (err error) {
			if len(args) != 1 {
				return usagef("want one environment")
			}
			o.Env = args[0]
			return n.with("slipway-plan", func(c *pipeline.Conn) error {
				return plan(ctx, c, *commit, o, os.Stdout)
			})
		},
	}
}

// plan prints the last plan published for o.Env, or computes the plan of
// commit from the local clone.
func plan(ctx context.Context, c *pipeline.Conn, commit string, o releaseOptions, out io.Writer) error {
	if commit != "" {
		t, err := resolveRelease(ctx, c, commit, o)
		if err != nil {
			return err
		}
		p, err := localPlan(ctx, c, t)
		if err != nil {
			return err
		}
		return release.WriteText(out, p)
	}
	repo, err := chooseRepo(ctx, c, o.Repo)
	if err != nil {
		return err
	}
	p, err := lastPlan(ctx, c, repo, o.Env)
	if errors.Is(err, natsstore.ErrEventNotFound) {
		return fmt.Errorf("no release of %s of %s planned: open a pull request changing its pin file (slipway release), or use -commit", o.Env, repo)
	}
	if err != nil {
		return err
	}
	if err := release.WriteText(out, p); err != nil {
		return err
	}
	return planStatus(ctx, c, p, out)
}

// planStatus says whether the planned release has happened since.
func planStatus(ctx context.Context, c *pipeline.Conn, p *events.ReleasePlanned, out io.Writer) error {
	envs, err := c.Envs(ctx)
	if err != nil {
		return err
	}
	st, ok, err := envs.Get(ctx, p.Repo.FullName, p.Env)
	if err != nil {
		return err
	}
	switch {
	case ok && st.Commit == p.To:
		fmt.Fprintf(out, "\n%s runs %s now: this release is done.\n", p.Env, short(p.To))
	case ok && st.Commit != p.From:
		fmt.Fprintf(out, "\n%s runs %s now, not %s: the plan is out of date until the pull request is updated.\n", p.Env, short(st.Commit), short(p.From))
	}
	return nil
}

// lastPlan returns the last release plan of env of repo: on its subject,
// or, planned before environments were scoped by repository, on the
// subject of the environment alone when it names repo.
func lastPlan(ctx context.Context, c *pipeline.Conn, repo, env string) (*events.ReleasePlanned, error) {
	m, err := c.FreshReadModel(ctx)
	if err != nil {
		return nil, err
	}
	m.CatchUp(ctx)
	p, err := m.Plan(ctx, repo, env, 0)
	if errors.Is(err, readmodel.ErrNotFound) {
		return nil, fmt.Errorf("plan of %s of %s: %w", env, repo, natsstore.ErrEventNotFound)
	}
	if err != nil {
		return nil, err
	}
	return &p.ReleasePlanned, nil
}
