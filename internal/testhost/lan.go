package testhost

import (
	"fmt"
	"testing"
)

// LANNamespace holds the bridge of the hosts' LAN (Hosts.MustLAN): a
// namespace of its own, so the bridge's traffic never meets the root
// namespace's iptables (where the shared dockerd's FORWARD policy is DROP).
const LANNamespace = Prefix + "lan"

// lanBridge is the bridge inside LANNamespace.
const lanBridge = "br0"

// LANIP returns the address of host i on the hosts' LAN.
func LANIP(i int) string { return fmt.Sprintf("10.231.250.%d", i) }

// MustLAN connects every host to one LAN, 10.231.250.0/24: host i gets eth1
// at LANIP(i), its other end on a bridge in LANNamespace. The hosts reach
// each other there, and nothing else: the LAN has no gateway, and the root
// namespace is not on it. A swarm of the hosts (manager on 2377, gossip on
// 7946 tcp and udp, VXLAN on 4789 udp, the tasks' published ports) runs over
// it. The namespace goes with the hosts when the test ends.
func (hs *Hosts) MustLAN(tb testing.TB) {
	tb.Helper()
	steps := [][]string{
		{"netns", "add", LANNamespace},
		{"-n", LANNamespace, "link", "add", lanBridge, "type", "bridge"},
		{"-n", LANNamespace, "link", "set", lanBridge, "up"},
	}
	for _, h := range hs.List {
		port := fmt.Sprintf("h%d", h.Index)
		steps = append(steps,
			[]string{"-n", LANNamespace, "link", "add", port, "type", "veth", "peer", "name", "eth1", "netns", h.NS},
			[]string{"-n", LANNamespace, "link", "set", port, "master", lanBridge},
			[]string{"-n", LANNamespace, "link", "set", port, "up"},
			[]string{"-n", h.NS, "addr", "add", LANIP(h.Index) + "/24", "dev", "eth1"},
			[]string{"-n", h.NS, "link", "set", "eth1", "up"},
		)
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			tb.Fatalf("testhost: LAN: %v", err)
		}
	}
}
