package testhost

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// startTimeout bounds how long a daemon of a host may take to answer.
const startTimeout = 60 * time.Second

// Host is one test host: a network namespace with its sshd and dockerd.
type Host struct {
	Index int    // from 1
	NS    string // network namespace, "swt-h<i>"
	IP    string // address sshd listens on
	// Socket is the path of the host's Docker socket, as sshd on the host
	// sees it (and, as it is a file of this machine, the test too).
	Socket string

	dir     string // runDir/h<i>
	dockerd *process
	sshd    *process
}

// URL returns the host as a target names it:
// ssh://root@<ip>:22<socket>.
func (h *Host) URL() string {
	return "ssh://root@" + net.JoinHostPort(h.IP, "22") + h.Socket
}

// Docker returns a client to the host's daemon through its socket file,
// for a test to look at what runs there without SSH. It is closed when the
// test ends.
func (h *Host) Docker(tb testing.TB) *client.Client {
	tb.Helper()
	cli, err := client.NewClientWithOpts(client.WithHost("unix://"+h.Socket), client.WithAPIVersionNegotiation())
	if err != nil {
		tb.Fatalf("testhost: docker client of %s: %v", h.NS, err)
	}
	tb.Cleanup(func() { _ = cli.Close() })
	return cli
}

// start creates host i's namespace and starts its dockerd and sshd.
func start(i int, authorizedKeys string) (*Host, error) {
	h := &Host{Index: i, NS: nsName(i), IP: hostIP(i), dir: filepath.Join(runDir, "h"+strconv.Itoa(i))}
	h.Socket = filepath.Join(h.dir, "docker.sock")
	if err := os.MkdirAll(h.dir, 0o700); err != nil {
		return nil, err
	}
	if err := addNamespace(i); err != nil {
		return nil, err
	}
	if err := h.startDockerd(); err != nil {
		return h, err
	}
	if err := h.writeSSHDConfig(authorizedKeys); err != nil {
		return h, err
	}
	return h, h.startSSHD()
}

// startDockerd starts the host's dockerd and waits until it answers.
func (h *Host) startDockerd() error {
	data := filepath.Join(dataDir, "h"+strconv.Itoa(h.Index))
	conf := filepath.Join(h.dir, "daemon.json")
	if err := os.WriteFile(conf, []byte("{}\n"), 0o600); err != nil {
		return err
	}
	args := []string{
		"--config-file", conf,
		"--data-root", data,
		"--exec-root", filepath.Join(h.dir, "exec"),
		"--pidfile", filepath.Join(h.dir, "dockerd.pid"),
		"-H", "unix://" + h.Socket,
		"--bip", bridgeIP(h.Index),
		"--insecure-registry", RegistryIP + ":5000",
		// Any port of it: a test's own registry (MustForward).
		"--insecure-registry", RegistryIP + "/32",
		"--cgroup-parent", "/" + h.NS,
		"--shutdown-timeout", "2",
		"--log-level", "warn",
	}
	p, err := h.run("dockerd", "/usr/sbin/dockerd", args...)
	if err != nil {
		return err
	}
	h.dockerd = p
	cli, err := client.NewClientWithOpts(client.WithHost("unix://"+h.Socket), client.WithAPIVersionNegotiation())
	if err != nil {
		return err
	}
	defer func() { _ = cli.Close() }() // only closes idle connections
	return p.waitFor(func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := cli.Ping(ctx)
		return err == nil
	})
}

// writeSSHDConfig writes the host's sshd configuration and host key.
func (h *Host) writeSSHDConfig(authorizedKeys string) error {
	// sshd's privilege separation directory: /run is emptied at boot, and
	// only the package's installation or its own service unit makes it.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return err
	}
	if _, err := keygen(filepath.Join(h.dir, "host_key")); err != nil {
		return err
	}
	conf := strings.Join([]string{
		"Port 22", "ListenAddress " + h.IP,
		"HostKey " + filepath.Join(h.dir, "host_key"),
		"PidFile " + filepath.Join(h.dir, "sshd.pid"),
		"AuthorizedKeysFile " + authorizedKeys,
		"StrictModes no", "UsePAM no",
		"PasswordAuthentication no", "KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"AllowTcpForwarding yes", "AllowStreamLocalForwarding yes",
		"LogLevel VERBOSE", "",
	}, "\n")
	return os.WriteFile(filepath.Join(h.dir, "sshd_config"), []byte(conf), 0o600)
}

// HostKey returns the host's public host key, "ssh-ed25519 AAAA...".
func (h *Host) HostKey(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(h.dir, "host_key.pub"))
	if err != nil {
		tb.Fatalf("testhost: %v", err)
	}
	f := strings.Fields(string(b))
	return f[0] + " " + f[1]
}

// startSSHD starts the host's sshd and waits until it accepts connections.
func (h *Host) startSSHD() error {
	p, err := h.run("sshd", "/usr/sbin/sshd", "-D", "-e", "-f", filepath.Join(h.dir, "sshd_config"))
	if err != nil {
		return err
	}
	h.sshd = p
	return p.waitFor(func() bool {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(h.IP, "22"), time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// StopSSHD kills the host's sshd and every session it serves, so the host
// can no longer be reached: connections open to it break, new ones are
// refused.
func (h *Host) StopSSHD(tb testing.TB) {
	tb.Helper()
	for _, p := range namespacePids(h.NS) {
		comm, err := os.ReadFile("/proc/" + p + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) != "sshd" {
			continue
		}
		if pid, err := strconv.Atoi(p); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	h.sshd.wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(h.IP, "22"), time.Second)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			tb.Fatalf("testhost: sshd of %s still accepts after it was killed", h.NS)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// StartSSHD starts the host's sshd again after StopSSHD.
func (h *Host) StartSSHD(tb testing.TB) {
	tb.Helper()
	if err := h.startSSHD(); err != nil {
		tb.Fatalf("testhost: restart sshd of %s: %v", h.NS, err)
	}
}

// stop stops the host's dockerd (its containers get its shutdown timeout),
// then kills whatever still runs in the namespace and removes it.
func (h *Host) stop() {
	if h.dockerd != nil {
		_ = h.dockerd.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-h.dockerd.exited:
		case <-time.After(20 * time.Second):
		}
	}
	killNamespace(h.NS, syscall.SIGKILL)
	for _, p := range []*process{h.dockerd, h.sshd} {
		if p != nil {
			p.wait()
		}
	}
	_ = ip("netns", "del", h.NS)
	_ = ip("link", "del", vethName(h.Index))
	unmountAll()
}

// run starts bin with args inside the host's namespace, its output in
// <dir>/<name>.log.
func (h *Host) run(name, bin string, args ...string) (*process, error) {
	log, err := os.OpenFile(filepath.Join(h.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	// nsenter, not "ip netns exec": that one mounts a sysfs of its own over
	// /sys, which hides the cgroup file systems dockerd needs.
	cmd := exec.Command("nsenter", append([]string{"--net=/run/netns/" + h.NS, "--", bin}, args...)...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s in %s: %w", name, h.NS, err)
	}
	p := &process{name: name, host: h.NS, log: log.Name(), cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); log.Close(); close(p.exited) }()
	return p, nil
}

// process is a daemon of a host.
type process struct {
	name, host, log string
	cmd             *exec.Cmd
	exited          chan struct{}
}

// waitFor polls ready until it holds, the process exits or startTimeout
// passes.
func (p *process) waitFor(ready func() bool) error {
	deadline := time.Now().Add(startTimeout)
	for !ready() {
		select {
		case <-p.exited:
			out, _ := os.ReadFile(p.log)
			return fmt.Errorf("%s of %s exited: %s", p.name, p.host, tail(out))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s of %s not ready after %s", p.name, p.host, startTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// wait waits until the process has exited, at most 10 seconds.
func (p *process) wait() {
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
	}
}

// tail returns the last 2000 bytes of a log.
func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// KillDockerd kills the host's dockerd with SIGKILL and waits until it has
// exited: the host is gone as a Docker (and Swarm) node, while its
// namespace, sshd and the containers' processes stay until the test ends.
func (h *Host) KillDockerd(tb testing.TB) {
	tb.Helper()
	if err := h.dockerd.cmd.Process.Kill(); err != nil {
		tb.Fatalf("testhost: kill dockerd of %s: %v", h.NS, err)
	}
	select {
	case <-h.dockerd.exited:
	case <-time.After(10 * time.Second):
		tb.Fatalf("testhost: dockerd of %s did not exit after SIGKILL", h.NS)
	}
}
