package swarm_test

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	swarmtarget "github.com/slipway-dev/slipway/swarm"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
	"github.com/slipway-dev/slipway/workflows/target/targettest"
)

// TestConformance runs the target conformance suite against a Target on a
// real swarm of two nodes (a manager and a worker, each a test host with
// its own dockerd, on one LAN): replicas are spread over both nodes and
// reached at their nodes' addresses through the manager.
//
// The ingress routing mesh does not work on these machines, and the Target
// does not need it. Tried on this swarm: a service publishing 30080 in
// ingress mode gets its ingress network (overlay, VXLAN links can be made
// here) and both tasks run, but a connection to 30080 on either node is
// refused; each dockerd logs "Could not get ipvs family information from
// the kernel ... Native loadbalancing will not work": the kernel has no
// IPVS (no /proc/sys/net/ipv4/vs, no modules to load, no modprobe), which
// Swarm's virtual IPs and ingress load balancing need. Every service the
// Target makes publishes its port in host mode with DNS round robin, which
// needs neither, here or anywhere.
func TestConformance(t *testing.T) {
	cli := dockertest.MustDocker(t)
	c := mustSwarm(t, 2)
	img := func(name string, cmd []string) targettest.Image {
		i := dockertest.MustImage(t, cli, name, cmd...)
		return targettest.Image{Ref: i.Ref, Digest: i.Digest}
	}
	targettest.Run(t, targettest.Config{
		New: func(tb testing.TB) target.Target {
			opts := c.options()
			// A task's state reaches the manager seconds late on a loaded
			// machine: 3s (the SSH hosts' figure) failed good tasks here.
			opts.Docker.HealthTimeout = 8 * time.Second
			tg, err := swarmtarget.New(opts)
			if err != nil {
				tb.Fatal(err)
			}
			return tg
		},
		Images: targettest.Images{
			Serve:    img("serve", targettest.ServeCmd),
			NoHealth: img("nohealth", targettest.NoHealthCmd),
			Crash:    img("crash", targettest.CrashCmd),
		},
		Leftovers: c.leftovers,
		Crash:     c.crash,
	})
}

// leftovers counts the services of env of repo that are not live, and the
// task containers left on the manager.
func (c *cluster) leftovers(tb testing.TB, ctx context.Context, repo, env string) int {
	tb.Helper()
	mgr := c.hosts.List[0].Docker(tb)
	svcs, err := mgr.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(
		filters.Arg("label", docker.LabelRepo+"="+repo), filters.Arg("label", docker.LabelEnv+"="+env),
	)})
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, s := range svcs {
		if s.Spec.Labels[swarmtarget.LabelRole] != swarmtarget.RoleLive {
			n++
		}
	}
	cs, err := mgr.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("label", docker.LabelTaskEnv+"="+env), filters.Arg("label", docker.LabelRepo+"="+repo),
	)})
	if err != nil {
		tb.Fatal(err)
	}
	return n + len(cs)
}

// crash creates, through the manager's socket, the candidate services a
// Deploy of d creates before its gate, and leaves them: what a deployer
// killed at that moment leaves.
func (c *cluster) crash(tb testing.TB, ctx context.Context, tg target.Target, d deploy.Deployment) {
	tb.Helper()
	mgr := c.hosts.List[0].Docker(tb)
	for _, img := range d.Images {
		img.Ref = c.hosts.PullRef(img.Ref)
		spec := swarmtarget.CandidateSpec(tg.(*swarmtarget.Target), d, img)
		if _, err := mgr.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{}); err != nil {
			tb.Fatalf("create candidate %s: %v", spec.Name, err)
		}
	}
}
