package sshhost_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/internal/testhost"
	"github.com/slipway-dev/slipway/sshhost"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// serveCmd serves the commit at / and "ok" at /healthz. failOn2Cmd does too
// but has no /healthz on test host 2, whose containers have addresses of
// 10.231.102.0/24: the same image is healthy on every host but one.
var (
	serveCmd = []string{"sh", "-c", `mkdir -p /www && echo "$SLIPWAY_COMMIT" > /www/index.html && ` +
		`echo ok > /www/healthz && exec httpd -f -p 8080 -h /www`}
	failOn2Cmd = []string{"sh", "-c", `mkdir -p /www && echo "$SLIPWAY_COMMIT" > /www/index.html && ` +
		`if busybox grep -q '10\.231\.102\.' /etc/hosts; then echo "no healthz on host 2"; else echo ok > /www/healthz; fi && ` +
		`exec httpd -f -p 8080 -h /www`}
)

// fixture is a set of test hosts, a Target over them and a fresh
// environment.
type fixture struct {
	hosts *testhost.Hosts
	repo  string
	env   string
	ctx   context.Context
	serve dockertest.Image
}

// mustFixture starts n hosts and builds the serving image.
func mustFixture(tb testing.TB, n int) *fixture {
	tb.Helper()
	cli := dockertest.MustDocker(tb)
	f := &fixture{
		hosts: testhost.MustHosts(tb, n),
		repo:  "acme/shop", env: dockertest.RandomName("t"),
		serve: dockertest.MustImage(tb, cli, "web", serveCmd...),
	}
	log := zerolog.New(zerolog.ConsoleWriter{Out: zerolog.TestWriter{T: tb}, NoColor: true})
	f.ctx = log.WithContext(context.Background())
	return f
}

// options returns the options of a Target over every host with batch.
func (f *fixture) options(batch int) sshhost.Options {
	return sshhost.Options{
		Hosts: f.hosts.URLs(),
		Auth:  sshhost.Auth{Key: f.hosts.Key, KnownHosts: f.hosts.KnownHosts, Timeout: 5 * time.Second},
		Batch: batch, Registry: f.hosts.Upstream, PullRegistry: f.hosts.Registry,
		Docker: docker.Options{HealthTimeout: 5 * time.Second, HealthInterval: 100 * time.Millisecond, DrainDelay: time.Millisecond, StopTimeout: time.Second},
	}
}

// mustTarget returns a Target for opts, closed when the test ends.
func mustTarget(tb testing.TB, opts sshhost.Options) *sshhost.Target {
	tb.Helper()
	t, err := sshhost.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = t.Close() })
	return t
}

// deployment is commit of the fixture's environment running img as web,
// changed by the commit (RELEASE=<commit>) as a real commit changes what
// it deploys: a target keeps a service whose image and values did not
// change.
func (f *fixture) deployment(commit string, img dockertest.Image) deploy.Deployment {
	return deploy.Deployment{Repo: f.repo, Env: f.env, Commit: commit, Images: []events.Image{{
		Service: events.ServiceSpec{Name: "web", Port: 8080, HealthPath: "/healthz", Hosts: []string{"shop.example.test"},
			Env: map[string]string{"RELEASE": commit}},
		Ref: img.Ref, Digest: img.Digest,
	}}}
}

// liveCommits returns, per host, the commits of the environment's
// containers ("<name>@<commit>", running or not) but those retained for a
// rollback, read from each host's
// daemon through its socket, not over SSH.
func (f *fixture) liveCommits(tb testing.TB) []string {
	tb.Helper()
	var out []string
	for _, h := range f.hosts.List {
		cs, err := h.Docker(tb).ContainerList(context.Background(), container.ListOptions{
			All: true, Filters: filters.NewArgs(filters.Arg("label", docker.LabelEnv+"="+f.env)),
		})
		if err != nil {
			tb.Fatalf("%s: %v", h.NS, err)
		}
		var names []string
		for _, c := range cs {
			if c.State != "running" && strings.Contains(c.Names[0], ".kept-") {
				continue // retained, stopped, for a rollback
			}
			names = append(names, strings.TrimPrefix(c.Names[0], "/")+"@"+c.Labels[docker.LabelCommit]+"/"+c.State)
		}
		out = append(out, h.NS+": "+strings.Join(names, ","))
	}
	return out
}

// wantEverywhere fails the test unless every host runs exactly the live
// web container of commit.
func (f *fixture) wantEverywhere(tb testing.TB, commit string) {
	tb.Helper()
	live := docker.LiveName(f.repo, f.env, "web")
	for i, got := range f.liveCommits(tb) {
		want := f.hosts.List[i].NS + ": " + live + "@" + commit + "/running"
		if got != want {
			tb.Errorf("host %d runs %q, want %q", i+1, got, want)
		}
	}
}

// get requests path of the web service's replica 0 on host h over an SSH
// connection of its own, the way a probe reaches it.
func (f *fixture) get(tb testing.TB, h *testhost.Host, addr string) string {
	tb.Helper()
	a, err := sshhost.ParseAddress(h.URL())
	if err != nil {
		tb.Fatal(err)
	}
	conn := sshhost.NewConn(a, sshhost.Auth{Key: f.hosts.Key, KnownHosts: f.hosts.KnownHosts})
	defer conn.Close()
	c := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: conn.DialContext}}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		tb.Fatalf("%s: GET %s: %v", h.NS, addr, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
}

// publishedAddr returns where host h publishes the live web container's
// port, as h sees it.
func (f *fixture) publishedAddr(tb testing.TB, h *testhost.Host) string {
	tb.Helper()
	info, err := h.Docker(tb).ContainerInspect(context.Background(), docker.LiveName(f.repo, f.env, "web"))
	if err != nil {
		tb.Fatalf("%s: %v", h.NS, err)
	}
	for _, b := range info.NetworkSettings.Ports {
		if len(b) > 0 {
			return net.JoinHostPort(b[0].HostIP, b[0].HostPort)
		}
	}
	tb.Fatalf("%s: the live container publishes no port", h.NS)
	return ""
}

// containerIDs returns the ids of the environment's containers on every
// host.
func (f *fixture) containerIDs(tb testing.TB) []string {
	tb.Helper()
	var ids []string
	for _, h := range f.hosts.List {
		cs, err := h.Docker(tb).ContainerList(context.Background(), container.ListOptions{
			All: true, Filters: filters.NewArgs(filters.Arg("label", docker.LabelEnv+"="+f.env)),
		})
		if err != nil {
			tb.Fatal(err)
		}
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// mustKeygen makes an ed25519 key pair at path and returns its public key
// without comment.
func mustKeygen(tb testing.TB, path string) string {
	tb.Helper()
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path).CombinedOutput()
	if err != nil {
		tb.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	b, err := os.ReadFile(path + ".pub")
	if err != nil {
		tb.Fatal(err)
	}
	fs := strings.Fields(string(b))
	return fs[0] + " " + fs[1]
}
