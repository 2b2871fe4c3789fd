package testhost_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

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
