package faulttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/buildkit/buildkittest"
	"github.com/slipway-dev/slipway/docker/dockertest"
)

// RequireDaemons checks that dockerd, buildkitd and the registry answer.
func RequireDaemons(tb testing.TB) {
	tb.Helper()
	dockertest.MustDocker(tb)
	buildkittest.MustRegistry(tb)
	buildkittest.MustBuildkit(tb)
}

// Daemons scripts/setup.sh runs and a test may stop.
const (
	Buildkitd = "buildkitd"
	Registry  = "registry"
	Dockerd   = "dockerd"
)

// pidFile is where setup.sh (or Debian, for dockerd) records a daemon's pid.
func pidFile(daemon string) string {
	if daemon == Dockerd {
		return "/var/run/docker.pid"
	}
	return filepath.Join(envOr("SLIPWAY_RUN_DIR", "/run/slipway"), daemon+".pid")
}

// StopDaemon stops a shared daemon with sig (SIGKILL: a crash; SIGTERM: an
// orderly stop) and waits until it is gone. Only a test started with
// Options.RestartsDaemons may call it; RestoreDaemons brings it back, and
// runs when that test ends in any case.
func StopDaemon(tb testing.TB, daemon string, sig syscall.Signal) {
	tb.Helper()
	b, err := os.ReadFile(pidFile(daemon))
	if err != nil {
		tb.Fatalf("stop %s: %v", daemon, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		tb.Fatalf("stop %s: pid file: %v", daemon, err)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		tb.Fatalf("stop %s (pid %d): %v", daemon, pid, err)
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			tb.Logf("%s (pid %d) stopped with %s", daemon, pid, sig)
			return
		}
	}
	tb.Fatalf("%s (pid %d) still running a minute after %s", daemon, pid, sig)
}

// RestoreDaemons runs scripts/setup.sh, which starts whatever daemon is
// not running and waits until each answers.
func RestoreDaemons(tb testing.TB) {
	tb.Helper()
	start := time.Now()
	cmd := exec.Command("bash", filepath.Join(Root(), "scripts", "setup.sh"))
	cmd.Dir = Root()
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("scripts/setup.sh: %v\n%s", err, out)
	}
	tb.Logf("daemons restored by scripts/setup.sh in %s", time.Since(start).Round(time.Millisecond))
}
