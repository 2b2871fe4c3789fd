package sshhost_test

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/internal/testhost"
	"github.com/slipway-dev/slipway/sshhost"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
	"github.com/slipway-dev/slipway/workflows/target/targettest"
)

// TestConformance runs the target conformance suite against a Target of
// one SSH host: the suite counts replicas of one node. The multi-host
// behaviour (batches, rollback of every host) has tests of its own.
func TestConformance(t *testing.T) {
	cli := dockertest.MustDocker(t)
	hs := testhost.MustHosts(t, 1)
	h := hs.List[0]
	img := func(name string, cmd []string) targettest.Image {
		i := dockertest.MustImage(t, cli, name, cmd...)
		return targettest.Image{Ref: i.Ref, Digest: i.Digest}
	}
	f := &fixture{hosts: hs}
	targettest.Run(t, targettest.Config{
		New: func(tb testing.TB) target.Target {
			opts := f.options(1)
			opts.Docker.HealthTimeout = 3 * time.Second
			tg, err := sshhost.New(opts)
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
		Leftovers: func(tb testing.TB, ctx context.Context, repo, env string) int {
			return leftovers(tb, ctx, h, repo, env)
		},
		Crash: func(tb testing.TB, ctx context.Context, _ target.Target, d deploy.Deployment) {
			crash(tb, ctx, hs, h, d)
		},
	})
}

// leftovers counts the containers of env of repo on h, or of its tasks,
// that hold no live name and are not retained for a rollback.
func leftovers(tb testing.TB, ctx context.Context, h *testhost.Host, repo, env string) int {
	tb.Helper()
	n := 0
	for _, label := range []string{docker.LabelEnv, docker.LabelTaskEnv} {
		cs, err := h.Docker(tb).ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(
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
}

// crash starts on h, through its socket, the candidates a Deploy of d
// starts before its health gate, and leaves them: what a deployer killed
// at that moment leaves.
func crash(tb testing.TB, ctx context.Context, hs *testhost.Hosts, h *testhost.Host, d deploy.Deployment) {
	tb.Helper()
	cli := h.Docker(tb)
	for _, img := range d.Images {
		ref := hs.PullRef(img.Ref) + "@" + img.Digest
		rc, err := cli.ImagePull(ctx, ref, image.PullOptions{})
		if err != nil {
			tb.Fatalf("pull %s on %s: %v", ref, h.NS, err)
		}
		_, _ = io.Copy(io.Discard, rc) // the pull ends with its stream
		rc.Close()
		for i := range max(img.Service.Replicas, 1) {
			name := docker.CandidateName(d.Repo, d.Env, img.Service.Name, i, d.Commit)
			c, err := cli.ContainerCreate(ctx, &container.Config{Image: ref, Labels: map[string]string{
				docker.LabelEnv: d.Env, docker.LabelRepo: d.Repo, docker.LabelService: img.Service.Name,
				docker.LabelCommit: d.Commit, docker.LabelDigest: img.Digest, docker.LabelReplica: strconv.Itoa(i),
			}}, nil, nil, nil, name)
			if err != nil {
				tb.Fatalf("create %s on %s: %v", name, h.NS, err)
			}
			if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
				tb.Fatalf("start %s on %s: %v", name, h.NS, err)
			}
		}
	}
}
