package build

import (
	"context"
	"errors"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
)

// completeCommit publishes the commit-built event when every service of the
// commit is built. Whichever worker finishes last does it; when two finish at
// the same instant, the commit claim lets one through and the other retries
// until it sees the claim completed.
func (h *Handler) completeCommit(ctx context.Context, e *events.BuildRequested) error {
	images, done, err := h.images(ctx, e)
	if err != nil || !done {
		return err
	}
	key := events.ForcedKey(events.CommitKey(e.Repo.FullName, e.Branch, e.Commit), e.Force)
	lease, err := h.Claims.Claim(ctx, key, h.Config.ClaimTTL)
	switch {
	case errors.Is(err, events.ErrAlreadyDone):
		return nil
	case errors.Is(err, workflows.ErrClaimHeld):
		return events.Retryable(err, h.Config.ClaimTTL/2)
	case err != nil:
		return err
	}
	built := &events.CommitBuilt{Repo: e.Repo, Commit: e.Commit, Branch: e.Branch, Images: images, Force: e.Force}
	if _, err := h.Publisher.Publish(ctx, built); err != nil {
		return errors.Join(fmt.Errorf("publish commit built: %w", err), lease.Release(context.WithoutCancel(ctx)))
	}
	zerolog.Ctx(ctx).Info().Str("repo", e.Repo.FullName).Str("sha", e.Commit).
		Int("services", len(images)).Msg("commit built")
	return lease.Complete(ctx, nil)
}

// images returns the commit's images once every service is built; done is
// false while some are still building. The services are looked at last
// declared first: the builds of a commit finish in about the order they
// were requested, so a completion that is not the last finds one still
// building at once, and a commit of N services costs O(N) reads, not N².
func (h *Handler) images(ctx context.Context, e *events.BuildRequested) (images []events.Image, done bool, err error) {
	names, err := h.serviceNames(ctx, e.Repo, e.Commit)
	if err != nil {
		return nil, false, err
	}
	images = make([]events.Image, len(names))
	for i := len(names) - 1; i >= 0; i-- {
		b, err := h.Claims.Result(ctx, events.ForcedKey(events.BuildKey(e.Repo.FullName, e.Commit, names[i]), e.Force))
		if errors.Is(err, workflows.ErrNoResult) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		rec, err := decodeRecord(b)
		if err != nil {
			return nil, false, events.Permanent(err)
		}
		if rec.Failed != "" {
			return nil, false, nil
		}
		images[i] = events.Image{Service: rec.Service, Ref: rec.Image, Digest: rec.Digest}
	}
	return images, true, nil
}
