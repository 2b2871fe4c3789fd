package docker_test

import (
	"context"
	"strconv"
	"strings"
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
					if label == docker.LabelTaskEnv || strings.TrimPrefix(c.Names[0], "/") != docker.ReplicaName(repo, env, l[docker.LabelService], i) {
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
