package checks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/workflows"
	"github.com/slipway-dev/slipway/workflows/build"
)

// Request is one check to run: the service's build (context, Dockerfile,
// network) with Target the stage Run is run on.
type Request struct {
	build.Request
	Target string
	Run    string
}

// Result is how a check ended. Passed is false when the command exited
// non-zero or a stage it needs failed; Log holds the last lines of output.
type Result struct {
	Passed bool
	Reason string
	Log    []string
}

// Runner runs one check (buildkit.Builder). An error is the runner's own
// failure (buildkitd unreachable), never the check's: a failed check is a
// Result.
type Runner interface {
	RunCheck(ctx context.Context, req Request) (Result, error)
}

// Publisher publishes an event and returns once it is stored.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) (duplicate bool, err error)
}

// Planner admits a consumed event (a repository or a commit not to be
// built is refused) and reads a commit's slipway.yaml (build.Planner).
type Planner interface {
	Admit(repo events.Repo, sha string) error
	Manifests
}

// Manifests reads a commit's slipway.yaml, once per commit (build.Planner).
type Manifests interface {
	Manifest(ctx context.Context, repo events.Repo, sha string) (*manifest.Manifest, error)
}

// Handler is the check workflow.
type Handler struct {
	Source    build.Source
	Runner    Runner
	Claims    workflows.Claims
	Publisher Publisher
	Planner   Planner
	// ClaimTTL is the lease of a running check, renewed while it runs.
	ClaimTTL time.Duration
	Now      func() time.Time
}

// HandleCheck runs a requested check once and publishes its result; a check
// that ran before has its recorded result published again (a duplicate the
// stream drops), never run twice.
func (h *Handler) HandleCheck(ctx context.Context, e *events.CheckRequested) error {
	if err := h.Planner.Admit(e.Repo, e.Commit); err != nil {
		return err
	}
	key := events.CheckKey(e.Repo.FullName, e.Commit, e.Check.Name)
	var res *events.CheckFinished
	lease, err := workflows.RunClaimed(ctx, h.Claims, key, h.ClaimTTL, func(ctx context.Context) (err error) {
		res, err = h.run(ctx, e)
		return err
	})
	switch {
	case lease == nil && errors.Is(err, events.ErrAlreadyDone):
		return h.republish(ctx, key)
	case lease == nil:
		return err
	case err != nil: // permanent before the check ran: record it failed
		res = h.finished(e, time.Now(), Result{Reason: err.Error()})
	}
	b, err := json.Marshal(res)
	if err != nil {
		return errors.Join(fmt.Errorf("encode check result: %w", err), lease.Release(context.WithoutCancel(ctx)))
	}
	if err := workflows.CompleteLease(ctx, lease, b, h.ClaimTTL/2); err != nil {
		return fmt.Errorf("record check %s: %w", e.Check.Name, err)
	}
	return h.publish(ctx, res)
}

// run checks the commit out and runs the check within its timeout.
func (h *Handler) run(ctx context.Context, e *events.CheckRequested) (*events.CheckFinished, error) {
	spec := e.Check
	if h.Runner == nil {
		return nil, events.Permanent(fmt.Errorf("check %s: this builder runs no checks", spec.Name))
	}
	svc, err := h.service(ctx, e)
	if err != nil {
		return nil, err
	}
	dir, release, err := h.Source.Checkout(ctx, e.Repo, e.Commit)
	if err != nil {
		return nil, fmt.Errorf("check out %s: %w", e.Commit, err)
	}
	defer release()
	contextDir, dockerfile, err := build.ServicePaths(dir, svc)
	if err != nil {
		return nil, err
	}
	start := h.now()
	zerolog.Ctx(ctx).Info().Str("repo", e.Repo.FullName).Str("sha", e.Commit).Str("check", spec.Name).Msg("check started")
	rctx, cancel := context.WithTimeout(ctx, spec.Timeout)
	defer cancel()
	res, err := h.Runner.RunCheck(rctx, Request{
		Request: build.Request{Checkout: dir, ContextDir: contextDir, Dockerfile: dockerfile, Network: spec.Network,
			BuildArgs: map[string]string{"SLIPWAY_COMMIT": e.Commit}},
		Target: spec.Target, Run: spec.Run,
	})
	switch {
	case err != nil && ctx.Err() == nil && rctx.Err() != nil:
		res = Result{Reason: fmt.Sprintf("timed out after %s", spec.Timeout), Log: res.Log}
	case err != nil:
		return nil, err
	}
	return h.finished(e, start, res), nil
}

// service returns the spec of the service the check builds, from the
// commit's slipway.yaml.
func (h *Handler) service(ctx context.Context, e *events.CheckRequested) (events.ServiceSpec, error) {
	m, err := h.Planner.Manifest(ctx, e.Repo, e.Commit)
	if err != nil {
		return events.ServiceSpec{}, err
	}
	for _, s := range m.Services() {
		if s.Name == e.Check.Service {
			return s, nil
		}
	}
	return events.ServiceSpec{}, events.Permanent(fmt.Errorf("check %s: service %q is not declared", e.Check.Name, e.Check.Service))
}

// finished is the result event of a check run.
func (h *Handler) finished(e *events.CheckRequested, start time.Time, r Result) *events.CheckFinished {
	return &events.CheckFinished{
		Repo: e.Repo, Commit: e.Commit, Branch: e.Branch, Check: e.Check.Name, Service: e.Check.Service,
		Passed: r.Passed, Reason: r.Reason, Log: Tail(r.Log, events.CheckLogLines), Started: start, Duration: h.now().Sub(start),
	}
}

// republish publishes the recorded result of a check run before.
func (h *Handler) republish(ctx context.Context, key string) error {
	b, err := h.Claims.Result(ctx, key)
	if err != nil {
		return err
	}
	var res events.CheckFinished
	if err := json.Unmarshal(b, &res); err != nil {
		return events.Permanent(fmt.Errorf("decode check record %s: %w", key, err))
	}
	return h.publish(ctx, &res)
}

func (h *Handler) publish(ctx context.Context, res *events.CheckFinished) error {
	if _, err := h.Publisher.Publish(ctx, res); err != nil {
		return fmt.Errorf("publish check result: %w", err)
	}
	zerolog.Ctx(ctx).Info().Str("repo", res.Repo.FullName).Str("sha", res.Commit).Str("check", res.Check).
		Bool("passed", res.Passed).Dur("duration", res.Duration).Msg("check finished")
	return nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Tail returns the last n lines of lines, each cut to 512 bytes.
func Tail(lines []string, n int) []string {
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		if len(l) > 512 {
			l = l[:512]
		}
		out[i] = l
	}
	return out
}
