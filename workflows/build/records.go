package build

import (
	"context"
	"errors"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
)

// Records is implemented by claims whose completed builds expire
// (natsstore.Claims): it finds a build recorded elsewhere (the read model's
// commit record) once its claim is gone. The builder reads it before it
// solves, so an old commit's redelivered or replayed build request is
// answered from the record (and its claim completed again with it) instead
// of building again.
type Records interface {
	// RecordedBuild returns the image and digest of the successful build of
	// service of sha of repo; ok is false when none is recorded.
	RecordedBuild(ctx context.Context, repo, sha, service string) (image, digest string, ok bool, err error)
}

// recorded fills rec from the build of e recorded beyond the claims, when
// the claims keep such records and there is one of this registry's image.
// With a Tagger, the image must still be in the registry (its commit's tag
// is put again by digest); one the registry lost is built again.
func (h *Handler) recorded(ctx context.Context, e *events.BuildRequested, rec *record) (bool, error) {
	r, ok := h.Claims.(Records)
	if !ok || e.Force != "" {
		return false, nil
	}
	image, digest, ok, err := r.RecordedBuild(ctx, e.Repo.FullName, e.Commit, e.Service.Name)
	if err != nil || !ok || image != rec.Image {
		return false, err
	}
	log := zerolog.Ctx(ctx).With().Str("repo", e.Repo.FullName).Str("sha", e.Commit).Str("service", e.Service.Name).
		Str("digest", digest).Logger()
	if h.Tagger != nil {
		err := h.Tagger.Retag(ctx, repoPath(h.Config.Registry, imageName(h.Config.Registry, e.Repo.FullName, e.Service.Name)), digest, e.Commit)
		if errors.Is(err, ErrNoManifest) {
			log.Info().Msg("build recorded before, its image gone from the registry: building again")
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("tag the recorded image of %s: %w", e.Service.Name, err)
		}
	}
	rec.Digest = digest
	log.Info().Msg("build recorded before (its claim expired): not built again")
	return true, nil
}
