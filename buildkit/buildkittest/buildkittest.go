// Package buildkittest finds the real buildkitd and registry that tests use,
// and inspects what builds pushed.
//
// A missing component skips the test, except in CI (CI=true), where it fails
// it: CI must never pass by skipping. Addresses come from BUILDKIT_HOST
// (default unix:///run/buildkit/buildkitd.sock) and SLIPWAY_REGISTRY
// (default localhost:5000), as scripts/setup.sh starts them.
package buildkittest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/slipway-dev/slipway/internal/daemonlock"
)

// Defaults of the local build chain started by scripts/setup.sh.
const (
	DefaultBuildkitHost = "unix:///run/buildkit/buildkitd.sock"
	DefaultRegistry     = "localhost:5000"
	// BaseImagePath is where setup.sh mirrors busybox in the registry.
	BaseImagePath = "mirror/busybox:stable"
)

// Missing skips the test because a component is not there, or fails it in CI.
func Missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...) + " (run scripts/setup.sh)"
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}

// MustBuildkit returns the address of a buildkitd that answers and has a
// worker.
func MustBuildkit(tb testing.TB) string {
	tb.Helper()
	daemonlock.Shared(tb) // a fault test may restart the daemon
	addr := envOr("BUILDKIT_HOST", DefaultBuildkitHost)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.New(ctx, addr)
	if err != nil {
		Missing(tb, "buildkitd at %s: %v", addr, err)
	}
	defer func() { _ = c.Close() }() // only a probe: its answer is all we need
	ws, err := c.ListWorkers(ctx)
	if err != nil || len(ws) == 0 {
		Missing(tb, "buildkitd at %s: %d workers, %v", addr, len(ws), err)
	}
	return addr
}

// MustRegistry returns the host:port of a registry that answers the
// distribution API over plain HTTP.
func MustRegistry(tb testing.TB) string {
	tb.Helper()
	daemonlock.Shared(tb) // a fault test may restart the daemon
	host := envOr("SLIPWAY_REGISTRY", DefaultRegistry)
	resp, err := httpClient.Get("http://" + host + "/v2/")
	if err != nil {
		Missing(tb, "registry at %s: %v", host, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		Missing(tb, "registry at %s: GET /v2/ answered %s", host, resp.Status)
	}
	return host
}

// MustBaseImage returns the reference of the busybox image mirrored into the
// registry, for tests to build FROM.
func MustBaseImage(tb testing.TB, registry string) string {
	tb.Helper()
	repo, tag, _ := strings.Cut(BaseImagePath, ":")
	if _, err := ManifestDigest(registry, repo, tag); err != nil {
		Missing(tb, "base image %s/%s: %v", registry, BaseImagePath, err)
	}
	return registry + "/" + BaseImagePath
}

// UniqueRepo returns a repository path unique to this run of the test, such
// as "slipway-test/testbuild-3f9a1c2e", so parallel runs do not collide.
func UniqueRepo(tb testing.TB) string {
	tb.Helper()
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, tb.Name())
	name = strings.Trim(name, "-")
	if len(name) > 60 {
		name = name[:60]
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "slipway-test/" + name + "-" + hex.EncodeToString(b)
}

// ManifestDigest returns the Docker-Content-Digest of repo:tag in the
// registry, asking for any image manifest or index media type.
func ManifestDigest(registry, repo, tag string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+registry+"/v2/"+repo+"/manifests/"+tag, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", strings.Join([]string{
		"application/vnd.oci.image.index.v1+json",
		"application/vnd.oci.image.manifest.v1+json",
		"application/vnd.docker.distribution.manifest.list.v2+json",
		"application/vnd.docker.distribution.manifest.v2+json",
	}, ", "))
	resp, err := httpClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", req.URL, resp.Status)
	}
	d := resp.Header.Get("Docker-Content-Digest")
	if d == "" {
		return "", fmt.Errorf("GET %s: no Docker-Content-Digest header", req.URL)
	}
	return d, nil
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
