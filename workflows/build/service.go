package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
)

// HandleBuild builds one service of one commit, once. A redelivery of a
// completed build publishes its recorded result again instead of solving.
func (h *Handler) HandleBuild(ctx context.Context, e *events.BuildRequested) error {
	if err := h.Planner.Admit(e.Repo, e.Commit); err != nil {
		return err
	}
	key := events.ForcedKey(events.BuildKey(e.Repo.FullName, e.Commit, e.Service.Name), e.Force)
	var rec record
	lease, err := workflows.RunClaimed(ctx, h.Claims, key, h.Config.ClaimTTL, func(ctx context.Context) (err error) {
		rec, err = h.build(ctx, e)
		return err
	})
	switch {
	case lease == nil && errors.Is(err, events.ErrAlreadyDone):
		return h.republish(ctx, e, key)
	case lease == nil:
		return err
	case err != nil:
		rec.Failed = Reason(err)
	}
	b, _ := json.Marshal(rec)
	if cerr := workflows.CompleteLease(ctx, lease, b, h.Config.ClaimTTL/2); cerr != nil {
		return cerr
	}
	if err := h.announce(ctx, e, rec, false); err != nil {
		return err
	}
	return h.completeCommit(ctx, e)
}

// build reuses the image of the same build key when there is one (unless
// forced), or checks the commit out and runs one solve.
func (h *Handler) build(ctx context.Context, e *events.BuildRequested) (record, error) {
	rec := record{Service: e.Service, Image: ImageRef(h.Config.Registry, e.Repo.FullName, e.Service.Name, e.Commit)}
	if ok, err := h.recorded(ctx, e, &rec); ok || err != nil {
		return rec, err
	}
	if h.Outputs == nil {
		return h.solve(ctx, e, rec)
	}
	var err error
	if rec.Key, err = h.BuildKey(ctx, e); err != nil {
		return rec, err
	}
	if e.Force == "" {
		if ok, err := h.reuse(ctx, e, &rec); ok || err != nil {
			return rec, err
		}
	}
	if rec, err = h.solve(ctx, e, rec); err != nil {
		return rec, err
	}
	h.remember(ctx, e, rec)
	return rec, nil
}

// solve checks the commit out and runs one solve.
func (h *Handler) solve(ctx context.Context, e *events.BuildRequested, rec record) (_ record, err error) {
	log := zerolog.Ctx(ctx).With().Str("repo", e.Repo.FullName).Str("sha", e.Commit).
		Str("service", e.Service.Name).Logger()
	dir, release, err := h.checkout(ctx, e)
	if err != nil {
		return rec, fmt.Errorf("check out %s: %w", e.Commit, err)
	}
	defer release()
	contextDir, dockerfile, err := resolve(dir, e.Service)
	if err != nil {
		return rec, err
	}
	start := time.Now()
	rec.StartedAt = start.UTC()
	log.Info().Str("image", rec.Image).Msg("build started")
	var blog Log
	if h.Logs != nil {
		l, end := h.Logs.Open(ctx, e.Repo.FullName, e.Commit, e.Service.Name)
		blog = l
		defer func() {
			result := "succeeded"
			if err != nil {
				result = "failed"
			}
			end(result)
		}()
	}
	res, err := h.Builder.Build(ctx, Request{
		Log:        blog,
		Checkout:   dir,
		ContextDir: contextDir,
		Dockerfile: dockerfile,
		Network:    e.Service.Network,
		Image:      rec.Image,
		CacheRef:   CacheRef(h.Config.Registry, e.Repo.FullName, e.Service.Name),
		BuildArgs:  map[string]string{"SLIPWAY_COMMIT": e.Commit},
	})
	rec.Duration = time.Since(start)
	if err != nil {
		rec.Step, rec.Output = failedStep(err)
		log.Warn().Err(err).Bool("permanent", events.IsPermanent(err)).Msg("build failed")
		return rec, fmt.Errorf("build %s: %w", e.Service.Name, err)
	}
	rec.Digest = res.Digest
	log.Info().Str("digest", res.Digest).Dur("took", time.Since(start)).Msg("build succeeded")
	return rec, nil
}

// checkout checks out what the build of e sees: its context, its
// Dockerfile and the Dockerfile's own .dockerignore when Source checks out
// paths, the whole commit otherwise.
func (h *Handler) checkout(ctx context.Context, e *events.BuildRequested) (string, func(), error) {
	ps, ok := h.Source.(PathSource)
	if !ok {
		return h.Source.Checkout(ctx, e.Repo, e.Commit)
	}
	dockerfile := path.Join(e.Service.Context, e.Service.Dockerfile)
	return ps.CheckoutPaths(ctx, e.Repo, e.Commit, []string{e.Service.Context, dockerfile, dockerfile + ".dockerignore"})
}

// republish answers a redelivered request for a build that completed.
func (h *Handler) republish(ctx context.Context, e *events.BuildRequested, key string) error {
	b, err := h.Claims.Result(ctx, key)
	if err != nil {
		return err
	}
	rec, err := decodeRecord(b)
	if err != nil {
		return events.Permanent(err)
	}
	if err := h.announce(ctx, e, rec, true); err != nil {
		return err
	}
	return h.completeCommit(ctx, e)
}

// announce publishes the outcome of one service build. Its id is
// deterministic, so announcing twice inside the duplicate window stores once.
func (h *Handler) announce(ctx context.Context, e *events.BuildRequested, rec record, cached bool) error {
	var ev events.Event = &events.BuildSucceeded{
		Repo: e.Repo, Commit: e.Commit, Branch: e.Branch, Service: e.Service.Name,
		Image: rec.Image, Digest: rec.Digest, Cached: cached, ReusedFrom: rec.ReusedFrom, Force: e.Force, StartedAt: rec.StartedAt, Duration: rec.Duration,
	}
	if rec.Failed != "" {
		ev = &events.BuildFailed{Repo: e.Repo, Commit: e.Commit, Branch: e.Branch, Service: e.Service.Name, Reason: rec.Failed,
			Step: rec.Step, Output: rec.Output, StartedAt: rec.StartedAt, Duration: rec.Duration}
	}
	if _, err := h.Publisher.Publish(ctx, ev); err != nil {
		return fmt.Errorf("announce build of %s: %w", e.Service.Name, err)
	}
	if rec.Failed != "" {
		return h.failCommit(ctx, e.Repo, e.Commit, e.Branch, fmt.Errorf("service %s: %s", e.Service.Name, rec.Failed))
	}
	return nil
}
