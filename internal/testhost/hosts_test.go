package testhost_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"

	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/internal/testhost"
)

// TestHostsAreIsolatedAndRemoved starts two hosts, checks each runs its own
// dockerd and sshd on its own address, that a host reaches the registry
// forwarder and nothing of the root namespace's Docker, and that nothing is
// left once the harness is cleaned up.
func TestHostsAreIsolatedAndRemoved(t *testing.T) {
	var hs *testhost.Hosts
	t.Run("hosts", func(t *testing.T) {
		hs = testhost.MustHosts(t, 2)
		ids := map[string]bool{}
		for _, h := range hs.List {
			info, err := h.Docker(t).Info(context.Background())
			if err != nil {
				t.Fatalf("%s: docker info: %v", h.NS, err)
			}
			ids[info.DockerRootDir] = true
			c, err := net.DialTimeout("tcp", net.JoinHostPort(h.IP, "22"), 2*time.Second)
			if err != nil {
				t.Fatalf("%s: sshd: %v", h.NS, err)
			}
			c.Close()
			out, err := exec.Command("ip", "netns", "exec", h.NS, "ip", "route", "show").CombinedOutput()
			if err != nil {
				t.Fatalf("%s: ip route: %v", h.NS, err)
			}
			if strings.Contains(string(out), "default") {
				t.Errorf("%s has a default route:\n%s", h.NS, out)
			}
		}
		if len(ids) != 2 {
			t.Errorf("data roots %v: want two different ones", ids)
		}
		for _, table := range []string{"filter", "nat"} {
			out, err := exec.Command("iptables", "-t", table, "-S").CombinedOutput()
			if err != nil {
				t.Fatalf("iptables: %v: %s", err, out)
			}
			if strings.Contains(string(out), "10.231.") {
				t.Errorf("the hosts' dockerds wrote rules into the root namespace's %s table:\n%s", table, out)
			}
		}
	})
	if hs == nil {
		return
	}
	if out, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(out), testhost.Prefix) {
		t.Errorf("namespaces left after clean-up:\n%s", out)
	}
	if out, _ := exec.Command("ip", "-o", "link", "show").Output(); strings.Contains(string(out), testhost.Prefix) {
		t.Errorf("links left after clean-up:\n%s", out)
	}
	for _, h := range hs.List {
		if _, err := os.Stat(h.Socket); err == nil {
			t.Errorf("%s: socket %s left after clean-up", h.NS, h.Socket)
		}
	}
}

// TestHostsAfterAKilledRun starts a harness in a child test process, kills
// that process with SIGKILL once its hosts run (its dockerds, containerds
// and sshds live on, orphaned, with their namespaces, links, mounts and
// directories), and checks the next harness starts anyway and that none of
// the killed run's daemons survives it.
func TestHostsAfterAKilledRun(t *testing.T) {
	if os.Getenv("TESTHOST_KILLED_RUN") == "1" {
		hs := testhost.MustHosts(t, 2)
		startSleeper(t, hs)
		_, _ = os.Stdout.WriteString("hosts ready\n")
		time.Sleep(10 * time.Minute) // until the parent kills the process
		return
	}
	child := exec.Command(os.Args[0], "-test.run=^TestHostsAfterAKilledRun$", "-test.v")
	child.Env = append(os.Environ(), "TESTHOST_KILLED_RUN=1")
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "hosts ready" {
				ready <- true
				break
			}
		}
		close(ready)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("the child run ended before its hosts were ready")
		}
	case <-time.After(2 * time.Minute):
		_ = child.Process.Kill()
		t.Fatal("the child run's hosts were not ready after 2 minutes")
	}
	stale := append(daemons(), containerProcs()...)
	if len(containerProcs()) == 0 {
		t.Fatal("the child run's container runs no process")
	}
	_ = child.Process.Kill()
	_ = child.Wait()

	hs := testhost.MustHosts(t, 2)
	for _, h := range hs.List {
		if _, err := h.Docker(t).Ping(context.Background()); err != nil {
			t.Fatalf("%s after a killed run: %v", h.NS, err)
		}
	}
	deadline := time.Now().Add(5 * time.Second) // SIGKILL is delivered asynchronously
	for _, pid := range stale {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if alive(pid) {
			comm, _ := os.ReadFile("/proc/" + pid + "/comm")
			t.Errorf("process %s (%s) of the killed run still runs", pid, strings.TrimSpace(string(comm)))
		}
	}
}

// alive reports whether process pid exists and is not a zombie (orphans
// are reparented to a PID 1 that may never reap them).
func alive(pid string) bool {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return false
	}
	_, rest, ok := strings.Cut(string(b), ") ")
	return ok && !strings.HasPrefix(rest, "Z")
}

// daemons returns the processes in the harness's namespaces.
func daemons() []string {
	var pids []string
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], testhost.Prefix) {
			continue
		}
		p, _ := exec.Command("ip", "netns", "pids", f[0]).Output()
		pids = append(pids, strings.Fields(string(p))...)
	}
	return pids
}

// startSleeper runs a container that sleeps on the first host.
func startSleeper(tb testing.TB, hs *testhost.Hosts) {
	tb.Helper()
	img := dockertest.MustImage(tb, dockertest.MustDocker(tb), "sleep", "sleep", "600")
	cli := hs.List[0].Docker(tb)
	ctx := context.Background()
	ref := hs.PullRef(img.Ref) + "@" + img.Digest
	rc, err := cli.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, rc)
	rc.Close()
	c, err := cli.ContainerCreate(ctx, &container.Config{Image: ref}, nil, nil, nil, "sleeper")
	if err != nil {
		tb.Fatal(err)
	}
	if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		tb.Fatal(err)
	}
}

// containerProcs returns the processes in the cgroups of the hosts'
// containers.
func containerProcs() []string {
	var pids []string
	dirs, _ := filepath.Glob("/sys/fs/cgroup/pids/" + testhost.Prefix + "*/*")
	for _, d := range dirs {
		b, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		pids = append(pids, strings.Fields(string(b))...)
	}
	return pids
}
