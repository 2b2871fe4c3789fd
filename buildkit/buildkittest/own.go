package buildkittest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
)

// OwnBuildkitd is a buildkitd a test started for itself, beside the shared
// one, with a configuration of its own (e.g. trusting a test's CA).
type OwnBuildkitd struct {
	// Addr is its socket, "unix:///tmp/.../buildkitd.sock".
	Addr string
	// Config is the path of its buildkitd.toml.
	Config string
}

// MustOwnBuildkitd starts buildkitd (from $SLIPWAY_HOME/bin, as setup.sh
// installs it) with its own root directory and socket, and extra appended
// to its buildkitd.toml (typically [registry."host:port"] sections), and
// waits until it has a worker. It is stopped when the test ends. Its worker
// is the OCI one with host networking: a test build asks for no network
// (Slipway forces none unless a service declares it), so no bridge or
// firewall of the shared daemon is needed. The shared registry on
// localhost:5000, holding the base image, is reachable over plain HTTP.
func MustOwnBuildkitd(tb testing.TB, extra string) *OwnBuildkitd {
	tb.Helper()
	bin := filepath.Join(envOr("SLIPWAY_HOME", "/var/lib/slipway"), "bin", "buildkitd")
	if _, err := os.Stat(bin); err != nil {
		Missing(tb, "buildkitd binary %s: %v", bin, err)
	}
	// A unix socket path must stay short: not under t.TempDir().
	sockDir, err := os.MkdirTemp("", "bk")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(sockDir) })
	root := tb.TempDir()
	own := &OwnBuildkitd{Addr: "unix://" + filepath.Join(sockDir, "buildkitd.sock"), Config: filepath.Join(root, "buildkitd.toml")}
	config := `[log]
  format = "text"
[worker.oci]
  enabled = true
  networkMode = "host"
  gc = false
[worker.containerd]
  enabled = false
[registry."localhost:5000"]
  http = true
  insecure = true
[registry."127.0.0.1:5000"]
  http = true
  insecure = true
` + extra
	if err := os.WriteFile(own.Config, []byte(config), 0o644); err != nil {
		tb.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(root, "buildkitd.log"))
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", own.Config, "--root", filepath.Join(root, "state"),
		"--addr", own.Addr, "--oci-worker=true", "--containerd-worker=false")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		logFile.Close()
	})
	if err := waitWorkers(own.Addr, exited, time.Minute); err != nil {
		log, _ := os.ReadFile(logFile.Name())
		tb.Fatalf("own buildkitd at %s: %v\n%s", own.Addr, err, tail(string(log), 20))
	}
	return own
}

// waitWorkers waits until the buildkitd at addr lists a worker, or exited
// reports its end.
func waitWorkers(addr string, exited <-chan struct{}, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		select {
		case <-exited:
			return errors.New("exited")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := client.New(ctx, addr)
		if err == nil {
			var ws []*client.WorkerInfo
			ws, err = c.ListWorkers(ctx)
			_ = c.Close()
			if err == nil && len(ws) > 0 {
				cancel()
				return nil
			}
		}
		cancel()
		if time.Now().After(deadline) {
			return fmt.Errorf("no worker within %s: %w", within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
