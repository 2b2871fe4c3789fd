package build

import (
	"context"

	"github.com/slipway-dev/slipway/events"
)

// Source reads a repository at exactly one commit. Implementations keep a
// mirror per repository so repeated fetches are cheap.
type Source interface {
	// ReadFile returns the content of path at sha, or an error wrapping
	// fs.ErrNotExist when the file is not in that commit.
	FileReader
	// Checkout materialises the tree of sha in a fresh directory. release
	// removes it; it is safe to call more than once.
	Checkout(ctx context.Context, repo events.Repo, sha string) (dir string, release func(), err error)
}

// PathSource is a Source that checks out only some paths of a commit
// (gitmirror.Mirror): each path with everything under it and the
// directories on the way to it. A build checks out what it sees (its
// context and its Dockerfile), not every service of the monorepo.
type PathSource interface {
	CheckoutPaths(ctx context.Context, repo events.Repo, sha string, paths []string) (dir string, release func(), err error)
}

// Request is one image to build and push.
type Request struct {
	// Checkout is the absolute path of the checked-out commit holding the
	// context; the builder opens the context and the Dockerfile through it,
	// so that no symbolic link leads a build out of it. Empty means
	// ContextDir.
	Checkout string
	// ContextDir is the absolute path of the build context.
	ContextDir string
	// Dockerfile is the absolute path of the Dockerfile.
	Dockerfile string
	// Image is the reference to push, "<registry>/<repo>/<service>:<sha>".
	Image string
	// CacheRef is the registry reference used to import and export the layer
	// cache, shared by every commit and every builder.
	CacheRef string
	// BuildArgs are passed to the Dockerfile frontend.
	BuildArgs map[string]string
	// Network lets the RUN steps use the network; without it they have none.
	Network bool
	// Log, when set, receives the build's progress as it runs.
	Log Log
}

// Result is a pushed image.
type Result struct {
	// Digest is the manifest digest in the registry, "sha256:...".
	Digest string
}

// Builder builds and pushes one image. A failure no retry can fix (a bad
// Dockerfile, a RUN step that fails) is returned as events.Permanent; an
// unreachable daemon or registry as events.Retryable.
type Builder interface {
	Build(ctx context.Context, req Request) (Result, error)
}
