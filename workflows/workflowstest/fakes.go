package workflowstest

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
)

// Files is a source of a repository's files: their contents by commit, then
// path. A file it lacks is fs.ErrNotExist.
type Files map[string]map[string]string

// ReadFile returns the file at path in commit sha.
func (f Files) ReadFile(_ context.Context, _ events.Repo, sha, path string) ([]byte, error) {
	s, ok := f[sha][path]
	if !ok {
		return nil, fmt.Errorf("%s@%s: %w", path, sha, fs.ErrNotExist)
	}
	return []byte(s), nil
}

// Results is a read-only workflows.Claims holding the results of completed
// steps by key.
type Results map[string][]byte

// Claim fails: Results holds completed steps only.
func (r Results) Claim(context.Context, string, time.Duration) (workflows.Lease, error) {
	return nil, fmt.Errorf("claims: read only")
}

// Result returns the result recorded for key, or workflows.ErrNoResult.
func (r Results) Result(_ context.Context, key string) ([]byte, error) {
	b, ok := r[key]
	if !ok {
		return nil, workflows.ErrNoResult
	}
	return b, nil
}

// Built records each image as built for commit sha of repo, the way the
// builder completes a build's claim.
func (r Results) Built(repo, sha string, imgs ...events.Image) {
	for _, img := range imgs {
		b, _ := json.Marshal(map[string]any{"service": img.Service, "image": img.Ref, "digest": img.Digest})
		r[events.BuildKey(repo, sha, img.Service.Name)] = b
	}
}
