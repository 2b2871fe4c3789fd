package registry_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/registry"
	"github.com/slipway-dev/slipway/workflows/build"
)

// TestClient runs against the real registry: tag, list, resolve, delete.
func TestClient(t *testing.T) {
	cli := dockertest.MustDocker(t)
	host := dockertest.MustRegistry(t)
	name := dockertest.RandomName("gc")
	a := dockertest.MustImage(t, cli, name, "echo", "a")
	b := dockertest.MustImage(t, cli, name, "echo", "b")
	repo := "slipway-test/" + name
	ctx := context.Background()
	c, err := registry.New(host, registry.Access{})
	if err != nil {
		t.Fatal(err)
	}
	shaA, shaB := dockertest.RandomCommit(), dockertest.RandomCommit()
	if err := c.Tag(ctx, repo, a.Digest, shaA); err != nil {
		t.Fatal(err)
	}
	if err := c.Tag(ctx, repo, b.Digest, shaB); err != nil {
		t.Fatal(err)
	}
	tags, err := c.Tags(ctx, repo)
	if err != nil || !slices.Contains(tags, shaA) || !slices.Contains(tags, shaB) || len(tags) != 4 {
		t.Fatalf("Tags() = %v, %v; want the two pushed and the two commit tags", tags, err)
	}
	if d, err := c.Digest(ctx, repo, shaA); err != nil || d != a.Digest {
		t.Fatalf("Digest(%s) = %q, %v; want %s", shaA[:8], d, err, a.Digest)
	}
	if err := c.Delete(ctx, repo, a.Digest); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, repo, a.Digest); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if _, err := c.Digest(ctx, repo, shaA); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("Digest of a deleted tag: %v, want ErrNotFound", err)
	}
	if d, err := c.Digest(ctx, repo, shaB); err != nil || d != b.Digest {
		t.Errorf("the other image went too: %q, %v", d, err)
	}
	tags, _ = c.Tags(ctx, repo)
	if slices.Contains(tags, shaA) || !slices.Contains(tags, shaB) {
		t.Errorf("tags after delete: %v", tags)
	}
	if _, err := c.Tags(ctx, "slipway-test/nothing-"+strings.ToLower(shaA[:8])); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("Tags of a missing repository: %v, want ErrNotFound", err)
	}
	_ = c.Delete(ctx, repo, b.Digest)
}

// TestRetag tags an image's manifest by digest for another commit: the new
// tag resolves to the same digest, and a manifest the registry no longer
// has is build.ErrNoManifest, to Retag and to Present.
func TestRetag(t *testing.T) {
	cli := dockertest.MustDocker(t)
	host := dockertest.MustRegistry(t)
	name := dockertest.RandomName("retag")
	a := dockertest.MustImage(t, cli, name, "echo", "a")
	repo := "slipway-test/" + name
	ctx := context.Background()
	c, err := registry.New(host, registry.Access{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Present(ctx, repo, a.Digest); err != nil {
		t.Fatalf("Present(%s): %v", a.Digest, err)
	}
	sha := dockertest.RandomCommit()
	if err := c.Retag(ctx, repo, a.Digest, sha); err != nil {
		t.Fatal(err)
	}
	if d, err := c.Digest(ctx, repo, sha); err != nil || d != a.Digest {
		t.Fatalf("Digest(%s) = %q, %v; want %s", sha[:8], d, err, a.Digest)
	}
	if err := c.Delete(ctx, repo, a.Digest); err != nil {
		t.Fatal(err)
	}
	if err := c.Retag(ctx, repo, a.Digest, dockertest.RandomCommit()); !errors.Is(err, build.ErrNoManifest) {
		t.Errorf("Retag of a deleted manifest: %v, want build.ErrNoManifest", err)
	}
	if err := c.Present(ctx, repo, a.Digest); !errors.Is(err, build.ErrNoManifest) {
		t.Errorf("Present of a deleted manifest: %v, want build.ErrNoManifest", err)
	}
}
