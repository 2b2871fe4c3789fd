package swarm_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/internal/testhost"
	"github.com/slipway-dev/slipway/sshhost"
	swarmtarget "github.com/slipway-dev/slipway/swarm"
)

// cluster is a swarm of test hosts: host 1 its manager, the others workers,
// on the hosts' LAN.
type cluster struct {
	hosts *testhost.Hosts
}

// mustSwarm starts n test hosts on one LAN and makes them a swarm: host 1
// initialises it (advertising its LAN address), the others join it as
// workers with the worker token. It waits until every node is ready.
func mustSwarm(tb testing.TB, n int) *cluster {
	tb.Helper()
	hs := testhost.MustHosts(tb, n)
	hs.MustLAN(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mgr := hs.List[0].Docker(tb)
	addr := testhost.LANIP(1)
	if _, err := mgr.SwarmInit(ctx, swarm.InitRequest{
		ListenAddr: net.JoinHostPort(addr, "2377"), AdvertiseAddr: net.JoinHostPort(addr, "2377"),
	}); err != nil {
		tb.Fatalf("swarm init on %s: %v", hs.List[0].NS, err)
	}
	info, err := mgr.SwarmInspect(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for _, h := range hs.List[1:] {
		own := net.JoinHostPort(testhost.LANIP(h.Index), "2377")
		if err := h.Docker(tb).SwarmJoin(ctx, swarm.JoinRequest{
			ListenAddr: own, AdvertiseAddr: own,
			RemoteAddrs: []string{net.JoinHostPort(addr, "2377")}, JoinToken: info.JoinTokens.Worker,
		}); err != nil {
			tb.Fatalf("swarm join of %s: %v", h.NS, err)
		}
	}
	c := &cluster{hosts: hs}
	c.waitNodes(tb, n)
	return c
}

// waitNodes waits until the manager reports want nodes ready.
func (c *cluster) waitNodes(tb testing.TB, want int) {
	tb.Helper()
	mgr := c.hosts.List[0].Docker(tb)
	deadline := time.Now().Add(time.Minute)
	for {
		nodes, err := mgr.NodeList(context.Background(), swarm.NodeListOptions{})
		if err != nil {
			tb.Fatal(err)
		}
		ready := 0
		for _, n := range nodes {
			if n.Status.State == swarm.NodeStateReady {
				ready++
			}
		}
		if ready == want {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d swarm nodes ready after a minute", ready, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// options returns the options of a Target on the cluster's manager.
func (c *cluster) options() swarmtarget.Options {
	return swarmtarget.Options{
		Manager:  c.hosts.List[0].URL(),
		Auth:     sshhost.Auth{Key: c.hosts.Key, KnownHosts: c.hosts.KnownHosts, Timeout: 5 * time.Second},
		Registry: c.hosts.Upstream, PullRegistry: c.hosts.Registry,
		Docker: docker.Options{HealthTimeout: 5 * time.Second, HealthInterval: 100 * time.Millisecond, StopTimeout: time.Second, DrainDelay: time.Millisecond},
	}
}

// mustTarget returns a Target on the cluster, closed when the test ends.
func (c *cluster) mustTarget(tb testing.TB) *swarmtarget.Target {
	tb.Helper()
	t, err := swarmtarget.New(c.options())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = t.Close() })
	return t
}
