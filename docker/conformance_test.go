package docker_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
	"github.com/slipway-dev/slipway/workflows/target/targettest"
)

// TestConformance runs the target conformance suite against the Docker
// daemon beside the tests.
func TestConformance(t *testing.T) {
	cli := dockertest.MustDocker(t)
	img := func(name string, cmd []string) targettest.Image {
		i := dockertest.MustImage(t, cli, name, cmd...)
		return targettest.Image{Ref: i.Ref, Digest: i.Digest}
	}
	targettest.Run(t, targettest.Config{
		New: func(tb testing.TB) target.Target {
			tg, err := docker.New(docker.Options{HealthTimeout: 3 * time.Second, DrainDelay: time.Millisecond, StopTimeout: 2 * time.Second})
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
		// Every container of the environment, or of one of its tasks,
		// that does not hold a live name.
		Leftovers: func(tb testing.TB, ctx context.Context, repo, env string) int {
			n := 0
			for _, label := range []string{docker.LabelEnv, docker.LabelTaskEnv} {
				cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(
					filters.Arg("label", label+"="+env), filters.Arg("label", docker.LabelRepo+"="+repo),
				)})
				if err != nil {
					tb.Fatal(err)
				}
				for _, c := range cs {
					l := c.Labels
					i, _ := strconv.Atoi(l[docker.LabelReplica])
					name := strings.TrimPrefix(c.Names[0], "/")
					retained := c.State != "running" && name == docker.RetainedName(repo, env, l[docker.LabelService], i, c.ID)
					if label == docker.LabelTaskEnv || (name != docker.ReplicaName(repo, env, l[docker.LabelService], i) && !retained) {
						n++
					}
				}
			}
			return n
		},
		Crash: func(tb testing.TB, ctx context.Context, tg target.Target, d deploy.Deployment) {
			if err := tg.(*docker.Target).StartCandidates(ctx, d); err != nil {
				tb.Fatal(err)
			}
		},
	})
}

// TestHealthChecksDialThroughOptions: the health gate reaches a candidate
// only through Options.Dial (a remote daemon's transport), at the address
// the daemon published, and the node Options.Node names is where Current
// says the replicas run and where a failed deploy's replica ran.
func TestHealthChecksDialThroughOptions(t *testing.T) {
	var mu sync.Mutex
	var dialed []string
	opts := fastOptions()
	opts.Node = "app1"
	opts.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dialed = append(dialed, addr)
		mu.Unlock()
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	f := MustFixture(t, opts)
	v1 := dockertest.RandomCommit()
	f.MustDeploy(t, f.deployment(v1, web(f.serve)))
	rel, err := f.t.Current(f.ctx, f.repo, f.env)
	if err != nil {
		t.Fatal(err)
	}
	svc := rel.Services[0]
	if len(svc.Instances) != 1 || svc.Instances[0].Node != "app1" || svc.Instances[0].Addr != svc.Addr {
		t.Errorf("instances %+v, want replica 0 on app1 at %s", svc.Instances, svc.Addr)
	}
	mu.Lock()
	probed := slices.Contains(dialed, svc.Addr)
	mu.Unlock()
	if !probed {
		t.Errorf("Options.Dial dialled %v, want the health probe of %s", dialed, svc.Addr)
	}
	conn, err := f.t.Dial(f.ctx, "tcp", svc.Addr)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()

	bad := dockertest.MustImage(t, f.cli, "web", crashCmd...)
	err = f.deploy(t, f.deployment(dockertest.RandomCommit(), web(bad)))
	var u *deploy.UnhealthyError
	if !errors.As(err, &u) || u.Node != "app1" || !strings.Contains(err.Error(), " on app1): ") {
		t.Errorf("deploy of a crashing image: %v, want an UnhealthyError on app1", err)
	}
}
