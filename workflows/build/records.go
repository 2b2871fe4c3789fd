package build

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
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
// claims keep such records and there is one.
func recorded(ctx context.Context, claims workflows.Claims, e *events.BuildRequested, rec *record) (bool, error) {
	r, ok := claims.(Records)
	if !ok || e.Force != "" {
		return false, nil
	}
	image, digest, ok, err := r.RecordedBuild(ctx, e.Repo.FullName, e.Commit, e.Service.Name)
	if err != nil || !ok {
		return false, err
	}
	rec.Image, rec.Digest = image, digest
	zerolog.Ctx(ctx).Info().Str("repo", e.Repo.FullName).Str("sha", e.Commit).Str("service", e.Service.Name).
		Str("digest", digest).Msg("build recorded before (its claim expired): not built again")
	return true, nil
}
