package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/slipway-dev/slipway/workflows/build"
)

var _ build.Tagger = (*Client)(nil)

// maxManifest bounds the manifest Retag copies.
const maxManifest = 4 << 20

// Present reports, with a HEAD of the manifest by digest (Digest), whether
// the registry has the manifest digest of repository name: nil, or an error
// wrapping build.ErrNoManifest and ErrNotFound.
func (c *Client) Present(ctx context.Context, name, digest string) error {
	_, err := c.Digest(ctx, name, digest)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: %w", build.ErrNoManifest, err)
	}
	return err
}

// Retag tags the manifest digest of repository name as tag: one GET of the
// manifest by digest and one PUT of the same bytes under the tag, so no
// layer moves and the tag names exactly that digest (checked on both the
// bytes read and the registry's answer). A manifest the registry no longer
// has is an error wrapping build.ErrNoManifest and ErrNotFound.
func (c *Client) Retag(ctx context.Context, name, digest, tag string) error {
	resp, err := c.do(ctx, http.MethodGet, "/v2/"+name+"/manifests/"+digest, nil, accept())
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("tag %s@%s as %s: %w: %w", name, digest, tag, build.ErrNoManifest, err)
	}
	if err != nil {
		return fmt.Errorf("tag %s@%s as %s: %w", name, digest, tag, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxManifest+1))
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("tag %s@%s as %s: read manifest: %w", name, digest, tag, err)
	}
	sum := sha256.Sum256(body)
	if got := "sha256:" + hex.EncodeToString(sum[:]); len(body) > maxManifest || got != digest {
		return fmt.Errorf("tag %s@%s as %s: the registry sent a manifest of digest %s", name, digest, tag, got)
	}
	h := http.Header{"Content-Type": {resp.Header.Get("Content-Type")}}
	resp, err = c.do(ctx, http.MethodPut, "/v2/"+name+"/manifests/"+tag, body, h)
	if err != nil {
		return fmt.Errorf("tag %s@%s as %s: %w", name, digest, tag, err)
	}
	resp.Body.Close()
	if d := resp.Header.Get("Docker-Content-Digest"); d != "" && d != digest {
		return fmt.Errorf("tag %s@%s as %s: the registry stored digest %s", name, digest, tag, d)
	}
	return nil
}
