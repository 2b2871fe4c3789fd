package testhost

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/docker/dockertest"
)

// lockPath is the flock that lets one harness run at a time on a machine.
const lockPath = "/run/slipway/testhost.lock"

// Hosts is a set of test hosts and what a client needs to reach them.
type Hosts struct {
	List []*Host
	// KnownHosts is a known_hosts file holding every host's key.
	KnownHosts string
	// Key is the private key every host authorises for root.
	Key string
	// Registry is the address the hosts pull images from; it forwards to
	// Upstream, the shared registry.
	Registry, Upstream string
}

// MustHosts starts n hosts (at most 9) and removes them when the test ends.
func MustHosts(tb testing.TB, n int) *Hosts {
	tb.Helper()
	for _, bin := range []string{"ip", "nsenter", "/usr/sbin/sshd", "/usr/sbin/dockerd", "ssh-keygen"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing(tb, "testhost: %s is not installed (iproute2, util-linux, openssh-server, docker.io; run scripts/setup.sh): %v", bin, err)
		}
	}
	if os.Geteuid() != 0 {
		missing(tb, "testhost: network namespaces need root")
	}
	if n < 1 || n > 9 {
		tb.Fatalf("testhost: %d hosts: want 1 to 9", n)
	}
	upstream := dockertest.MustRegistry(tb)
	lock(tb)
	removeAll() // a killed run's leftovers
	hs := &Hosts{Registry: RegistryIP + ":5000", Upstream: upstream}
	tb.Cleanup(func() {
		for _, h := range hs.List {
			h.stop()
		}
		removeAll()
	})
	if err := hs.setUp(tb, n); err != nil {
		for _, h := range hs.List {
			dumpLogs(tb, h)
		}
		tb.Fatalf("testhost: %v", err)
	}
	return hs
}

// setUp makes the keys, the registry forwarder and the hosts.
func (hs *Hosts) setUp(tb testing.TB, n int) error {
	keys := filepath.Join(runDir, "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		return err
	}
	hs.Key = filepath.Join(keys, "id_ed25519")
	pub, err := keygen(hs.Key)
	if err != nil {
		return err
	}
	auth := filepath.Join(keys, "authorized_keys")
	if err := os.WriteFile(auth, []byte(pub+"\n"), 0o600); err != nil {
		return err
	}
	if err := addRegistryLink(); err != nil {
		return err
	}
	if _, err := forward(tb, hs.Registry, hs.Upstream); err != nil {
		return err
	}
	var known []string
	for i := 1; i <= n; i++ {
		h, err := start(i, auth)
		if h != nil {
			hs.List = append(hs.List, h)
		}
		if err != nil {
			return err
		}
		known = append(known, h.IP+" "+h.HostKey(tb))
	}
	hs.KnownHosts = filepath.Join(keys, "known_hosts")
	return os.WriteFile(hs.KnownHosts, []byte(strings.Join(known, "\n")+"\n"), 0o600)
}

// URLs returns every host's URL, in order.
func (hs *Hosts) URLs() []string {
	var urls []string
	for _, h := range hs.List {
		urls = append(urls, h.URL())
	}
	return urls
}

// PullRef returns ref, an image of the upstream registry, as the hosts pull
// it.
func (hs *Hosts) PullRef(ref string) string {
	return hs.Registry + strings.TrimPrefix(ref, hs.Upstream)
}

// MustForward forwards a free port of RegistryIP, which every host reaches,
// to upstream (a registry of the test's own on loopback, such as a private
// one) until the test ends, and returns that address. The hosts' dockerd
// take every port of RegistryIP for an insecure registry: they pull over
// TLS without verifying it (a CA of the test's) or over plain HTTP.
func (hs *Hosts) MustForward(tb testing.TB, upstream string) string {
	tb.Helper()
	addr, err := forward(tb, RegistryIP+":0", upstream)
	if err != nil {
		tb.Fatalf("testhost: %v", err)
	}
	return addr
}

// forward accepts connections on addr and pipes each to upstream until the
// test ends; it returns the address it listens on.
func forward(tb testing.TB, addr, upstream string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("registry forwarder: %w", err)
	}
	tb.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go pipe(c, upstream)
		}
	}()
	return ln.Addr().String(), nil
}

// pipe copies between c and a new connection to upstream, both ways.
func pipe(c net.Conn, upstream string) {
	defer c.Close()
	u, err := net.DialTimeout("tcp", upstream, 5*time.Second)
	if err != nil {
		return
	}
	defer u.Close()
	done := make(chan struct{})
	go func() { _, _ = io.Copy(u, c); _ = u.(*net.TCPConn).CloseWrite(); close(done) }()
	_, _ = io.Copy(c, u)
	<-done
}

// lock holds the machine's harness lock until the test ends.
func lock(tb testing.TB) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(lockPath), 0o755); err != nil {
		tb.Fatalf("testhost: %v", err)
	}
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		tb.Fatalf("testhost: %v", err)
	}
	deadline := time.Now().Add(10 * time.Minute)
	for syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		if time.Now().After(deadline) {
			f.Close()
			tb.Fatal("testhost: another harness held the hosts for 10 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Cleanup(func() { f.Close() }) // registered before the hosts' clean-up, so it runs after it
}

// keygen creates an unencrypted ed25519 key pair at path (and path.pub) and
// returns the public key.
func keygen(path string) (string, error) {
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "testhost", "-f", path).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("ssh-keygen: %w: %s", err, out)
	}
	pub, err := os.ReadFile(path + ".pub")
	return strings.TrimSpace(string(pub)), err
}

// dumpLogs logs the end of a host's daemon logs, for a failed set-up.
func dumpLogs(tb testing.TB, h *Host) {
	tb.Helper()
	for _, name := range []string{"dockerd", "sshd"} {
		if b, err := os.ReadFile(filepath.Join(h.dir, name+".log")); err == nil {
			tb.Logf("%s %s log:\n%s", h.NS, name, tail(b))
		}
	}
}

// missing skips the test because a component is not installed, or fails
// it with CI=true.
func missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf(format, args...)
	}
	tb.Skipf(format, args...)
}
