package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
)

// requireComponents checks that buildkitd, the registry and dockerd answer:
// without them the test is skipped, except in CI (CI=true), where it fails.
func requireComponents(t testing.TB) {
	t.Helper()
	dockertest.MustDocker(t)
	registry := os.Getenv("SLIPWAY_REGISTRY")
	if registry == "" {
		registry = "localhost:5000"
	}
	missing := func(what string, err error) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s unavailable (run scripts/setup.sh): %v", what, err)
		}
		t.Skipf("%s unavailable (run scripts/setup.sh): %v", what, err)
	}
	resp, err := http.Get("http://" + registry + "/v2/mirror/busybox/tags/list")
	if err != nil {
		missing("registry with the mirrored busybox", err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != 200 {
			missing("registry with the mirrored busybox", nil)
		}
	}
	host := os.Getenv("BUILDKIT_HOST")
	if host == "" {
		host = "unix:///run/buildkit/buildkitd.sock"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, buildctl(), "--addr", host, "debug", "workers").CombinedOutput(); err != nil {
		missing("buildkitd", fmtErr(err, out))
	}
}

func buildctl() string {
	home := os.Getenv("SLIPWAY_HOME")
	if home == "" {
		home = "/var/lib/slipway"
	}
	return home + "/bin/buildctl"
}

type outErr struct {
	err error
	out []byte
}

func (e outErr) Error() string { return e.err.Error() + ": " + string(e.out) }

func fmtErr(err error, out []byte) error { return outErr{err, out} }

// removeEnv removes the containers of the sample repository's environment
// after a test.
func removeEnv(t testing.TB, env string) { removeRepoEnv(t, sample.RepoName, env) }

// removeRepoEnv removes the containers of env of repo after a test.
func removeRepoEnv(t testing.TB, repo, env string) {
	target, err := docker.New(docker.DefaultOptions())
	if err != nil {
		t.Error(err)
		return
	}
	defer target.Close()
	if err := target.Remove(context.Background(), repo, env); err != nil {
		t.Errorf("remove %s: %v", env, err)
	}
}
