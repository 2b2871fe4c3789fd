package build

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
)

// ErrNoOutput is returned by Outputs.Lookup for a build key never built.
var ErrNoOutput = errors.New("no image built for this build key")

// ErrNoManifest is returned by Tagger.Present and Retag when the registry no
// longer has the manifest (garbage-collected): the service is solved again.
var ErrNoManifest = errors.New("manifest not in the registry")

// Output is the image a build key produced.
type Output struct {
	Image  string `json:"image"`
	Digest string `json:"digest"`
	// Commit is the commit whose build pushed it.
	Commit string `json:"commit"`
}

// Outputs remembers the image each build key produced (natsstore.Outputs).
type Outputs interface {
	// Lookup returns what key produced, or an error wrapping ErrNoOutput.
	Lookup(ctx context.Context, key string) (Output, error)
	// Record stores what key produced; a later record replaces it.
	Record(ctx context.Context, key string, o Output) error
}

// Tagger gives a manifest already in the registry one more tag
// (registry.Client): a manifest PUT, no layer moves.
type Tagger interface {
	// Present returns nil when the registry has the manifest digest of
	// repository name, an error wrapping ErrNoManifest when it does not.
	Present(ctx context.Context, name, digest string) error
	// Retag tags the manifest digest of repository name (the registry's
	// path, "owner/repo/service") as tag. A manifest the registry no
	// longer has is an error wrapping ErrNoManifest.
	Retag(ctx context.Context, name, digest, tag string) error
}

// reuse takes the image an earlier commit built under the same build key
// for this commit instead of solving, and reports whether it did. A key
// never built, or whose manifest is gone, is not reused. The image's tag for
// this commit is put once the commit is built (TagReused).
func (h *Handler) reuse(ctx context.Context, e *events.BuildRequested, rec *record) (bool, error) {
	out, err := h.Outputs.Lookup(ctx, rec.Key)
	if errors.Is(err, ErrNoOutput) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up build key of %s: %w", e.Service.Name, err)
	}
	if out.Image != imageName(h.Config.Registry, e.Repo.FullName, e.Service.Name) {
		return false, nil // another registry or name: the key covers it, but be sure
	}
	err = h.Tagger.Present(ctx, repoPath(h.Config.Registry, out.Image), out.Digest)
	if errors.Is(err, ErrNoManifest) {
		zerolog.Ctx(ctx).Info().Str("service", e.Service.Name).Str("digest", out.Digest).
			Msg("image of the build key is gone from the registry: building again")
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up %s for %s: %w", out.Digest, e.Commit, err)
	}
	rec.Digest, rec.ReusedFrom = out.Digest, out.Commit
	zerolog.Ctx(ctx).Info().Str("repo", e.Repo.FullName).Str("sha", e.Commit).Str("service", e.Service.Name).
		Str("digest", out.Digest).Str("reused_from", out.Commit).Msg("build reused: inputs unchanged")
	return true, nil
}

// remember records the image a solve produced under its build key. A
// failure only costs a later commit a solve, so it is logged, not returned.
func (h *Handler) remember(ctx context.Context, e *events.BuildRequested, rec record) {
	out := Output{Image: imageName(h.Config.Registry, e.Repo.FullName, e.Service.Name), Digest: rec.Digest, Commit: e.Commit}
	if err := h.Outputs.Record(ctx, rec.Key, out); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("service", e.Service.Name).Msg("recording the build key failed: the next commit builds again")
	}
}

// repoPath is the registry's path of image ("<registry>/<path>").
func repoPath(registry, image string) string {
	return strings.TrimPrefix(image, strings.ToLower(registry)+"/")
}
