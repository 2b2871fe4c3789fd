package dockertest

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// tofuPin finds the OpenTofu version tools/tofu/go.mod pins.
var tofuPin = regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/opentofu/opentofu v(\S+)`)

// MustTofuImage returns the image scripts/setup.sh builds with the tofu
// command of the OpenTofu version tools/tofu pins,
// <registry>/mirror/tofu:<version>, once the registry serves it.
func MustTofuImage(tb testing.TB) string {
	tb.Helper()
	reg := MustRegistry(tb)
	version := pinnedTofu(tb)
	ref := reg + "/mirror/tofu:" + version
	req, err := http.NewRequest(http.MethodHead, "http://"+reg+"/v2/mirror/tofu/manifests/"+version, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		unavailable(tb, "registry %s not reachable (run scripts/setup.sh): %v", reg, err)
		return ref
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		unavailable(tb, "%s missing (%s; run scripts/setup.sh)", ref, resp.Status)
	}
	return ref
}

// pinnedTofu reads the version from tools/tofu/go.mod in the nearest
// directory above the test's that has it.
func pinnedTofu(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "tools", "tofu", "go.mod"))
		if err == nil {
			m := tofuPin.FindSubmatch(b)
			if m == nil {
				tb.Fatalf("no github.com/opentofu/opentofu in %s", filepath.Join(dir, "tools", "tofu", "go.mod"))
			}
			return string(m[1])
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no tools/tofu/go.mod above the test's directory")
		}
		dir = parent
	}
}
