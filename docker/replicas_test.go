package docker_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// The proxy spreads requests over the Target's replicas.

// replicaScript serves like serveCmd, and "<replica> <hostname>" at /whoami.
// Run with FAIL_REPLICA=<i>, replica i crashes at start.
const replicaScript = `if [ "$SLIPWAY_REPLICA" = "$FAIL_REPLICA" ]; then echo "replica $SLIPWAY_REPLICA refuses to start" >&2; exit 4; fi; ` +
	`mkdir -p /www && echo "$SLIPWAY_COMMIT" > /www/index.html && echo ok > /www/healthz && ` +
	`echo "$SLIPWAY_REPLICA $HOSTNAME" > /www/whoami && exec httpd -f -p 8080 -h /www`

// replicated is the web service running img with n replicas.
func replicated(img dockertest.Image, n int) events.Image {
	i := web(img)
	i.Service.Replicas = n
	return i
}

// failingReplica is the web service with n replicas of which replica bad
// crashes.
func failingReplica(img dockertest.Image, n, bad int) events.Image {
	i := replicated(img, n)
	i.Service.Env = map[string]string{"FAIL_REPLICA": strconv.Itoa(bad)}
	return i
}

// MustServeReplicas asserts that the environment's containers are exactly n
// running live replicas of web at commit, labelled with their index and
// answering with it, and that Current agrees. It returns them by replica.
func (f *fixture) MustServeReplicas(tb testing.TB, commit string, n int) []container.Summary {
	tb.Helper()
	cs := f.containers(tb)
	if len(cs) != n {
		tb.Fatalf("environment has %d containers %v, want %d", len(cs), names(cs), n)
	}
	byReplica := make([]container.Summary, n)
	for _, c := range cs {
		l := c.Labels
		i, err := strconv.Atoi(l[docker.LabelReplica])
		if err != nil || i < 0 || i >= n {
			tb.Fatalf("container %s has replica label %q, want 0..%d", c.Names[0], l[docker.LabelReplica], n-1)
		}
		if c.Names[0] != "/"+docker.ReplicaName(f.repo, f.env, "web", i) || l[docker.LabelCommit] != commit ||
			l[docker.LabelReplicas] != strconv.Itoa(n) || c.State != "running" {
			tb.Fatalf("container %s labels %v state %s, want live replica %d of %d at %s, running", c.Names[0], l, c.State, i, n, short(commit))
		}
		byReplica[i] = c
	}
	rel, err := f.t.Current(f.ctx, f.repo, f.env)
	if err != nil {
		tb.Fatal(err)
	}
	if rel.Commit() != commit || len(rel.Services) != 1 || !rel.Services[0].Running || len(rel.Services[0].Addrs) != n {
		tb.Fatalf("Current() = %+v, want web running %s on %d addrs", rel, short(commit), n)
	}
	s := rel.Services[0]
	if s.Addr != s.Addrs[0] {
		tb.Errorf("Current().Addr = %s, want replica 0's %s", s.Addr, s.Addrs[0])
	}
	for i, addr := range s.Addrs {
		who := MustGet(tb, "http://"+addr+"/whoami", "")
		if want := fmt.Sprintf("%d %s", i, byReplica[i].ID[:12]); who != want {
			tb.Errorf("replica %d at %s answers %q, want %q", i, addr, who, want)
		}
	}
	return byReplica
}

func ids(cs []container.Summary) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func TestDeployReplicas(t *testing.T) {
	f := MustFixture(t, fastOptions())
	img := dockertest.MustImage(t, f.cli, "web", "sh", "-c", replicaScript)
	v1 := dockertest.RandomCommit()

	f.MustDeploy(t, f.deployment(v1, replicated(img, 2)))
	first := f.MustServeReplicas(t, v1, 2)
	if addr, err := f.replica0("web"); err != nil || !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("replica 0 at %q, %v, want replica 0's address", addr, err)
	}
	if addrs, err := f.t.ResolveAll(f.ctx, f.repo, f.env, "web"); err != nil || len(addrs) != 2 {
		t.Errorf("ResolveAll = %v, %v, want 2 addresses", addrs, err)
	}

	t.Run("same release and count twice is a no-op", func(t *testing.T) {
		f.MustDeploy(t, f.deployment(v1, replicated(img, 2)))
		if again := f.MustServeReplicas(t, v1, 2); !slices.Equal(ids(again), ids(first)) {
			t.Errorf("redeploy replaced containers %v with %v", ids(first), ids(again))
		}
	})

	t.Run("same release with another count is not", func(t *testing.T) {
		f.MustDeploy(t, f.deployment(v1, replicated(img, 3)))
		f.MustServeReplicas(t, v1, 3)
	})

	t.Run("Current counts the replicas up", func(t *testing.T) {
		web := func() deploy.ServiceState {
			t.Helper()
			rel, err := f.t.Current(f.ctx, f.repo, f.env)
			if err != nil || len(rel.Services) != 1 {
				t.Fatalf("Current() = %+v, %v, want one service", rel, err)
			}
			return rel.Services[0]
		}
		if s := web(); !s.Running || s.Replicas != 3 || s.Up != 3 {
			t.Fatalf("all up: Running %v, Up %d of %d, want true, 3 of 3", s.Running, s.Up, s.Replicas)
		}
		cs := f.MustServeReplicas(t, v1, 3)
		timeout := 0
		if err := f.cli.ContainerStop(context.Background(), cs[2].ID, container.StopOptions{Timeout: &timeout}); err != nil {
			t.Fatal(err)
		}
		if s := web(); s.Running || s.Replicas != 3 || s.Up != 2 {
			t.Errorf("one stopped: Running %v, Up %d of %d, want false, 2 of 3", s.Running, s.Up, s.Replicas)
		}
	})
}

func TestDeployScalesReplicas(t *testing.T) {
	f := MustFixture(t, fastOptions())
	img := dockertest.MustImage(t, f.cli, "web", "sh", "-c", replicaScript)
	for _, n := range []int{2, 3, 1, 0, 2} {
		commit := dockertest.RandomCommit()
		f.MustDeploy(t, f.deployment(commit, replicated(img, n)))
		f.MustServeReplicas(t, commit, max(n, 1))
	}
}

func TestFailingReplicaKeepsPreviousRelease(t *testing.T) {
	f := MustFixture(t, fastOptions())
	img := dockertest.MustImage(t, f.cli, "web", "sh", "-c", replicaScript)
	v1, v2 := dockertest.RandomCommit(), dockertest.RandomCommit()
	f.MustDeploy(t, f.deployment(v1, replicated(img, 2)))
	before := f.MustServeReplicas(t, v1, 2)

	err := f.deploy(t, f.deployment(v2, failingReplica(img, 3, 1)))
	if !events.IsPermanent(err) || !strings.Contains(err.Error(), "exited with code 4") ||
		!strings.Contains(err.Error(), "replica 1 refuses to start") {
		t.Fatalf("err = %v, want permanent with replica 1's exit code and log", err)
	}
	if after := f.MustServeReplicas(t, v1, 2); !slices.Equal(ids(after), ids(before)) {
		t.Errorf("failed deploy replaced containers %v with %v", ids(before), ids(after))
	}
}

func TestProxySpreadsOverReplicas(t *testing.T) {
	f := MustFixture(t, fastOptions())
	img := dockertest.MustImage(t, f.cli, "web", "sh", "-c", replicaScript)
	v1 := dockertest.RandomCommit()
	f.MustDeploy(t, f.deployment(v1, replicated(img, 3)))
	cs := f.MustServeReplicas(t, v1, 3)

	seen := map[string]int{}
	for range 9 {
		who := MustGet(t, f.proxy.URL+"/whoami", "web."+f.env+".shop.localhost")
		seen[who]++
	}
	for i, c := range cs {
		if who := fmt.Sprintf("%d %s", i, c.ID[:12]); seen[who] != 3 {
			t.Errorf("replica %d answered %d of 9 requests (answers %v), want 3", i, seen[who], seen)
		}
	}
}

// TestReplicaNamesNeverCollide: the names of replicas and services are
// separated by ".", which no service name holds, so service "web" with 2
// replicas beside a service "web-r1" (which once both needed
// "slipway-<env>-web-r1") run side by side.
func TestReplicaNamesNeverCollide(t *testing.T) {
	f := MustFixture(t, fastOptions())
	commit := dockertest.RandomCommit()
	f.MustDeploy(t, f.deployment(commit, replicated(f.serve, 2), named("web-r1", web(f.serve))))
	rel, err := f.t.Current(f.ctx, f.repo, f.env)
	if err != nil || len(rel.Services) != 2 || rel.Commit() != commit || !rel.Services[0].Running || !rel.Services[1].Running {
		t.Fatalf("Current() = %+v, %v, want web and web-r1 running %s", rel, err, short(commit))
	}
	seen := map[string]bool{}
	for _, c := range f.containers(t) {
		if seen[c.Names[0]] {
			t.Errorf("two containers named %s", c.Names[0])
		}
		seen[c.Names[0]] = true
	}
	if len(seen) != 3 {
		t.Errorf("containers %v, want 3 (web twice, web-r1 once)", seen)
	}
}

func TestDeployRestoresARetiredReplica(t *testing.T) {
	f := MustFixture(t, fastOptions())
	img := dockertest.MustImage(t, f.cli, "web", "sh", "-c", replicaScript)
	v1, v2 := dockertest.RandomCommit(), dockertest.RandomCommit()
	f.MustDeploy(t, f.deployment(v1, replicated(img, 2)))
	before := f.MustServeReplicas(t, v1, 2)

	// A crash between the two renames of replica 1's switch.
	retired := docker.ReplicaName(f.repo, f.env, "web", 1) + ".retired-" + before[1].ID[:12]
	if err := f.cli.ContainerRename(context.Background(), before[1].ID, retired); err != nil {
		t.Fatal(err)
	}
	rel, err := f.t.Current(f.ctx, f.repo, f.env)
	if err != nil || len(rel.Services) != 1 || rel.Services[0].Running {
		t.Fatalf("Current() with replica 1 retired = %+v, %v, want web not running", rel, err)
	}

	if err := f.deploy(t, f.deployment(v2, failingReplica(img, 2, 0))); !events.IsPermanent(err) {
		t.Fatalf("deploy with a crashing replica: %v, want permanent", err)
	}
	if after := f.MustServeReplicas(t, v1, 2); !slices.Equal(ids(after), ids(before)) {
		t.Errorf("containers %v, want the restored %v", ids(after), ids(before))
	}
}
