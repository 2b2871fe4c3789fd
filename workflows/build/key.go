package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"slices"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
)

// keyVersion is part of every build key: changing what a key covers
// changes it, so no image is reused across the change.
const keyVersion = 1

// Objects tells the git object ids of paths at a commit (gitmirror.Mirror):
// a tree's id changes exactly when something under it does. A missing path
// has the id "".
type Objects interface {
	ObjectIDs(ctx context.Context, repo events.Repo, sha string, paths []string) ([]string, error)
}

// Fingerprinter is a Builder whose own settings change what it produces
// (the platforms of its workers, the base images it may pull): they are
// part of every build key.
type Fingerprinter interface {
	Fingerprint(ctx context.Context) (string, error)
}

// keyInput is everything a build can see, hashed into its key. Paths are
// relative to the repository's root.
type keyInput struct {
	Version int `json:"v"`
	// Image is the registry repository the image is pushed to.
	Image string `json:"image"`
	// Trees are the object ids of the context, or of the declared inputs,
	// by path; Dockerfile and Ignore those of the Dockerfile and of the
	// .dockerignore files that exist.
	Trees      map[string]string `json:"trees"`
	Dockerfile string            `json:"dockerfile"`
	Ignore     map[string]string `json:"ignore,omitempty"`
	Args       map[string]string `json:"args,omitempty"`
	Network    bool              `json:"network,omitempty"`
	Builder    string            `json:"builder,omitempty"`
}

// stampArg is the build argument naming the commit. A Dockerfile that
// mentions it builds a different image for every commit (stamped, in
// Bazel's words): its key holds the commit, so it is never reused.
const stampArg = "SLIPWAY_COMMIT"

// BuildKey returns the content address of a service's build at sha: the
// hex SHA-256 of the git ids of what its build can see (its context, or the
// inputs it declares; its Dockerfile, wherever it is; its .dockerignore),
// its build arguments, network mode, image name and the builder's
// fingerprint. Two commits with equal keys build the same image.
func (h *Handler) BuildKey(ctx context.Context, e *events.BuildRequested) (string, error) {
	s := e.Service
	dockerfile, ignores, trees := keyParts(s)
	paths := keyPaths(s)
	ids, err := h.objectIDs(ctx, e, paths)
	if err != nil {
		return "", fmt.Errorf("build key of %s: %w", s.Name, err)
	}
	in := keyInput{
		Version: keyVersion, Image: imageName(h.Config.Registry, e.Repo.FullName, s.Name),
		Trees: map[string]string{}, Ignore: map[string]string{}, Dockerfile: ids[0], Network: s.Network,
	}
	for i, p := range ignores {
		if id := ids[1+i]; id != "" {
			in.Ignore[p] = id
		}
	}
	field := "context"
	if len(s.Inputs) > 0 {
		field = "inputs"
	}
	for i, p := range trees {
		if in.Trees[p] = ids[1+len(ignores)+i]; in.Trees[p] == "" {
			return "", events.Permanent(&manifest.FieldError{Path: "services[" + s.Name + "]." + field, Msg: fmt.Sprintf("%q does not exist in the commit", p)})
		}
	}
	if in.Dockerfile == "" {
		return "", events.Permanent(&manifest.FieldError{Path: "services[" + s.Name + "].dockerfile", Msg: fmt.Sprintf("%q does not exist in the commit", dockerfile)})
	}
	stamped, err := h.stamps.stamped(ctx, h.Source, e, dockerfile, in.Dockerfile)
	if err != nil {
		return "", fmt.Errorf("build key of %s: %w", s.Name, err)
	}
	if stamped {
		in.Args = map[string]string{stampArg: e.Commit}
	}
	if f, ok := h.Builder.(Fingerprinter); ok {
		if in.Builder, err = f.Fingerprint(ctx); err != nil {
			return "", fmt.Errorf("build key of %s: %w", s.Name, err)
		}
	}
	b, _ := json.Marshal(in)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// keyParts returns what the key of service s covers: its Dockerfile, the
// .dockerignore files the Dockerfile frontend may read ("<Dockerfile>.dockerignore",
// else the context's; those that exist are part of the key) and the trees
// it sees (its context, or its declared inputs).
func keyParts(s events.ServiceSpec) (dockerfile string, ignores, trees []string) {
	dockerfile = path.Join(s.Context, s.Dockerfile)
	trees = s.Inputs
	if len(trees) == 0 {
		trees = []string{s.Context}
	}
	return dockerfile, []string{dockerfile + ".dockerignore", path.Join(s.Context, ".dockerignore")}, trees
}

// keyPaths returns keyParts as one list: the Dockerfile, the ignores, the
// trees.
func keyPaths(s events.ServiceSpec) []string {
	dockerfile, ignores, trees := keyParts(s)
	return slices.Concat([]string{dockerfile}, ignores, trees)
}

// objectIDs returns the ids of paths at e's commit: from the memo of the
// commit's services when the Planner reads its slipway.yaml, else directly.
func (h *Handler) objectIDs(ctx context.Context, e *events.BuildRequested, paths []string) ([]string, error) {
	if h.Planner == nil {
		return h.Objects.ObjectIDs(ctx, e.Repo, e.Commit, paths)
	}
	m, err := h.Planner.Manifest(ctx, e.Repo, e.Commit)
	if err != nil {
		return h.Objects.ObjectIDs(ctx, e.Repo, e.Commit, paths)
	}
	return h.objects.objectIDs(ctx, h.Objects, e, m.Services(), paths)
}
