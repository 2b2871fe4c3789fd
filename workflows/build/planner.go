package build

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
)

// FileReader reads a file of a repository at a commit (gitmirror.Mirror). A
// path missing from the commit is an error wrapping fs.ErrNotExist.
type FileReader interface {
	ReadFile(ctx context.Context, repo events.Repo, sha, path string) ([]byte, error)
}

// planWidth is how many build requests of a commit Plan publishes at once.
const planWidth = 16

// Planner is the one place builds are planned: a push to the default
// branch (Handler.HandlePush), a push to another branch an environment
// follows (release) and the head of a pull request (preview) all ask it.
// It admits the commit (Admit), reads and validates its slipway.yaml once
// (Manifest), and publishes one BuildRequested per service it declares.
//
// Its methods are safe for concurrent use; the zero value of the unexported
// fields is ready.
type Planner struct {
	// Source reads slipway.yaml.
	Source FileReader
	// Publisher publishes the build requests and a commit's failure; a
	// planner only asked for manifests (the operator's commands) needs none.
	Publisher Publisher
	// Repos, when not empty, are the only repositories built (full names,
	// "owner/name"); an event about another is refused.
	Repos []string

	manifests manifests
}

// Admit checks a consumed event before anything is fetched or built: the
// bus is not trusted to carry only what ingest verified. A refused event is
// a permanent error: it is never built, and never retried.
func (p *Planner) Admit(repo events.Repo, sha string) error {
	if err := events.CheckCommit(repo, sha); err != nil {
		return events.Permanent(fmt.Errorf("refuse event: %w", err))
	}
	if len(p.Repos) > 0 && !slices.Contains(p.Repos, repo.FullName) {
		return events.Permanent(fmt.Errorf("refuse event: repository %s is not configured", repo.FullName))
	}
	return nil
}

// Manifest returns the parsed slipway.yaml of sha, read from Source once
// per commit: a commit never changes, so later calls, and calls made while
// the first one reads, share its result. A missing or invalid file is a
// permanent error; a failed read is not remembered.
func (p *Planner) Manifest(ctx context.Context, repo events.Repo, sha string) (*manifest.Manifest, error) {
	return p.manifests.get(ctx, repo.FullName+"@"+sha, func() (*manifest.Manifest, error) {
		return ReadManifest(ctx, p.Source, repo, sha)
	})
}

// Plan requests the builds of sha, built on branch: one BuildRequested per
// service its slipway.yaml declares, then one CheckRequested per check. A refused event fails permanently; a
// missing or invalid slipway.yaml fails the commit (a commit-level
// BuildFailed) permanently.
func (p *Planner) Plan(ctx context.Context, repo events.Repo, sha, branch string) error {
	if err := p.Admit(repo, sha); err != nil {
		return err
	}
	m, err := p.Manifest(ctx, repo, sha)
	if events.IsPermanent(err) {
		return p.FailCommit(ctx, repo, sha, branch, err)
	}
	if err != nil {
		return err
	}
	// The requests are published planWidth at a time: each waits for the
	// stream's acknowledgement, and one after another a commit of 50
	// services spent 150 ms here. Their order does not matter (every
	// request is idempotent and a commit completes in any order).
	services := m.Services()
	errs := make([]error, len(services))
	slots := make(chan struct{}, planWidth)
	var wg sync.WaitGroup
	for i, s := range services {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			req := &events.BuildRequested{Repo: repo, Commit: sha, Branch: branch, Service: s}
			if _, err := p.Publisher.Publish(ctx, req); err != nil {
				errs[i] = fmt.Errorf("request build of %s: %w", s.Name, err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, c := range m.Checks() { // workflows/checks
		if _, err := p.Publisher.Publish(ctx, &events.CheckRequested{Repo: repo, Commit: sha, Branch: branch, Check: c}); err != nil {
			return fmt.Errorf("request check %s: %w", c.Name, err)
		}
	}
	zerolog.Ctx(ctx).Info().Str("repo", repo.FullName).Str("sha", sha).Str("branch", branch).
		Strs("services", m.Names()).Msg("builds requested")
	return nil
}

// FailCommit publishes a commit-level build failure and returns the cause
// as a permanent error.
func (p *Planner) FailCommit(ctx context.Context, repo events.Repo, sha, branch string, cause error) error {
	return failCommit(ctx, p.Publisher, repo, sha, branch, cause)
}

// ReadManifest reads and parses the slipway.yaml of a commit. A missing or
// invalid file is a permanent error; a failed read is returned as it is.
func ReadManifest(ctx context.Context, src FileReader, repo events.Repo, sha string) (*manifest.Manifest, error) {
	data, err := src.ReadFile(ctx, repo, sha, manifest.Filename)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, events.Permanent(fmt.Errorf("%s not found in commit %s", manifest.Filename, sha))
	}
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", manifest.Filename, sha, err)
	}
	return manifest.Parse(data)
}

// failCommit publishes a commit-level build failure and returns the cause as
// a permanent error.
func failCommit(ctx context.Context, pub Publisher, repo events.Repo, sha, branch string, cause error) error {
	ev := &events.BuildFailed{Repo: repo, Commit: sha, Branch: branch, Reason: Reason(cause)}
	if _, err := pub.Publish(ctx, ev); err != nil {
		return fmt.Errorf("publish commit failure: %w", err)
	}
	return events.Permanent(cause)
}
