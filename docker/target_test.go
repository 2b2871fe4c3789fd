package docker_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/proxy"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// Commands of the test images. The healthy one serves the commit it runs
// at / and "ok" at /healthz; exec makes httpd PID 1 so SIGTERM stops it.
var (
	serveCmd = []string{"sh", "-c", `mkdir -p /www && echo "$SLIPWAY_COMMIT" > /www/index.html && ` +
		`echo ok > /www/healthz && echo "serving $SLIPWAY_SERVICE in $SLIPWAY_ENV" && exec httpd -f -p 8080 -h /www`}
	noHealthCmd = []string{"sh", "-c", `mkdir -p /www && echo "$SLIPWAY_COMMIT" > /www/index.html && ` +
		`echo "started without a health endpoint" && exec httpd -f -p 8080 -h /www`}
	crashCmd = []string{"sh", "-c", `echo "fatal: missing DATABASE_URL" >&2; exit 3`}
)

// fixture is a Target on the real daemon with a proxy in front of it.
type fixture struct {
	t     *docker.Target
	cli   *client.Client
	repo  string
	env   string
	proxy *httptest.Server
	ctx   context.Context
	serve dockertest.Image
}

// replica0 returns the address of replica 0 of service in the fixture's
// environment, as the proxy resolves it (ResolveAll, replicas in order).
func (f *fixture) replica0(service string) (string, error) {
	addrs, err := f.t.ResolveAll(f.ctx, f.repo, f.env, service)
	if err != nil {
		return "", err
	}
	return addrs[0], nil
}

// MustFixture returns a fixture for a fresh environment, removed when the
// test ends.
func MustFixture(tb testing.TB, opts docker.Options) *fixture {
	tb.Helper()
	cli := dockertest.MustDocker(tb)
	target, err := docker.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	env := dockertest.RandomName("t")
	tb.Cleanup(func() {
		if err := target.Remove(context.Background(), "acme/shop", env); err != nil {
			tb.Errorf("remove %s: %v", env, err)
		}
		target.Close()
	})
	srv := httptest.NewServer(proxy.New(target, "", proxy.WithHosts(proxy.StaticHosts{Labels: map[string]string{"shop": "acme/shop", "blog": "acme/blog"}})))
	tb.Cleanup(srv.Close)
	log := zerolog.New(zerolog.ConsoleWriter{Out: zerolog.TestWriter{T: tb}, NoColor: true})
	return &fixture{
		t: target, cli: cli, repo: "acme/shop", env: env, proxy: srv, ctx: log.WithContext(context.Background()),
		serve: dockertest.MustImage(tb, cli, "web", serveCmd...),
	}
}

// web is the web service running img.
func web(img dockertest.Image) events.Image {
	return events.Image{
		Service: events.ServiceSpec{Name: "web", Port: 8080, HealthPath: "/healthz", Env: map[string]string{"GREETING": "hi"}},
		Ref:     img.Ref, Digest: img.Digest,
	}
}

// named is img as service name.
func named(name string, img events.Image) events.Image {
	img.Service.Name = name
	return img
}

// deployment is commit of the fixture's environment with images, each of
// them changed by the commit (RELEASE=<commit> in its env), so that every
// commit replaces every service: a real commit changes what it deploys.
// release deploys images as they are.
func (f *fixture) deployment(commit string, images ...events.Image) deploy.Deployment {
	changed := make([]events.Image, len(images))
	for i, img := range images {
		env := map[string]string{"RELEASE": commit}
		for k, v := range img.Service.Env {
			env[k] = v
		}
		img.Service.Env = env
		changed[i] = img
	}
	return f.release(commit, changed...)
}

// release is commit of the fixture's environment with images as they are:
// a service whose image and values an earlier commit had is unchanged.
func (f *fixture) release(commit string, images ...events.Image) deploy.Deployment {
	return deploy.Deployment{Env: f.env, Repo: f.repo, Commit: commit, Images: images}
}

// deploy deploys and logs how long it took.
func (f *fixture) deploy(tb testing.TB, d deploy.Deployment) error {
	tb.Helper()
	start := time.Now()
	err := f.t.Deploy(f.ctx, d)
	tb.Logf("deploy %s of %d service(s): %s (err: %v)", short(d.Commit), len(d.Images), time.Since(start).Round(time.Millisecond), err)
	return err
}

// MustDeploy deploys and fails the test on error.
func (f *fixture) MustDeploy(tb testing.TB, d deploy.Deployment) {
	tb.Helper()
	if err := f.deploy(tb, d); err != nil {
		tb.Fatalf("deploy %s: %v", short(d.Commit), err)
	}
}

// containers returns every container of the environment, from Docker,
// but the stopped containers of earlier releases it retains (retained).
func (f *fixture) containers(tb testing.TB) []container.Summary {
	tb.Helper()
	var out []container.Summary
	for _, c := range f.all(tb) {
		if !isRetained(c) {
			out = append(out, c)
		}
	}
	return out
}

// isRetained reports whether c is a stopped container under its
// RetainedName.
func isRetained(c container.Summary) bool {
	l := c.Labels
	i, _ := strconv.Atoi(l[docker.LabelReplica])
	return c.State != "running" && c.Names[0] == "/"+docker.RetainedName(l[docker.LabelRepo], l[docker.LabelEnv], l[docker.LabelService], i, c.ID)
}

// all returns every container of the environment, from Docker.
func (f *fixture) all(tb testing.TB) []container.Summary {
	tb.Helper()
	cs, err := f.cli.ContainerList(context.Background(), container.ListOptions{
		All: true, Filters: filters.NewArgs(filters.Arg("label", docker.LabelEnv+"="+f.env)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return cs
}

// MustServe asserts that the environment's only container serves commit
// under its live name, and that Current, ResolveAll and the proxy agree.
func (f *fixture) MustServe(tb testing.TB, commit string) container.Summary {
	tb.Helper()
	cs := f.containers(tb)
	if len(cs) != 1 {
		tb.Fatalf("environment has %d containers %v, want 1", len(cs), names(cs))
	}
	c := cs[0]
	if c.Names[0] != "/"+docker.LiveName(f.repo, f.env, "web") || c.Labels[docker.LabelCommit] != commit || c.State != "running" {
		tb.Fatalf("container %s commit %s state %s, want live name, commit %s, running", c.Names[0], short(c.Labels[docker.LabelCommit]), c.State, short(commit))
	}
	rel, err := f.t.Current(f.ctx, f.repo, f.env)
	if err != nil {
		tb.Fatal(err)
	}
	if rel.Commit() != commit || len(rel.Services) != 1 || !rel.Services[0].Running {
		tb.Fatalf("Current() = %+v, want web running %s", rel, short(commit))
	}
	if got := MustGet(tb, "http://"+rel.Services[0].Addr+"/", ""); got != commit {
		tb.Errorf("GET via Current().Addr = %q, want %q", got, commit)
	}
	if got := MustGet(tb, f.proxy.URL+"/", "web."+f.env+".shop.localhost"); got != commit {
		tb.Errorf("GET via proxy = %q, want %q", got, commit)
	}
	return c
}

// MustGet returns the trimmed body of a 200 answer to GET url with host.
func MustGet(tb testing.TB, url, host string) string {
	tb.Helper()
	code, body, err := get(url, host)
	if err != nil || code != http.StatusOK {
		tb.Fatalf("GET %s (host %q) = %d %q, %v", url, host, code, body, err)
	}
	return body
}

func get(url, host string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b)), err
}

func names(cs []container.Summary) []string {
	var ns []string
	for _, c := range cs {
		ns = append(ns, c.Names...)
	}
	return ns
}

func short(s string) string { return s[:min(12, len(s))] }

// fastOptions keep failing health checks short.
func fastOptions() docker.Options {
	return docker.Options{HealthTimeout: 5 * time.Second, DrainDelay: time.Millisecond, StopTimeout: 2 * time.Second}
}

func TestDeployLifecycle(t *testing.T) {
	f := MustFixture(t, fastOptions())
	v1, v2, v3 := dockertest.RandomCommit(), dockertest.RandomCommit(), dockertest.RandomCommit()

	f.MustDeploy(t, f.deployment(v1, web(f.serve)))
	first := f.MustServe(t, v1)
	if l := first.Labels; l[docker.LabelRepo] != "acme/shop" || l[docker.LabelDigest] != f.serve.Digest ||
		l[docker.LabelImage] != f.serve.Ref || l[docker.LabelService] != "web" {
		t.Errorf("labels = %v", l)
	}

	f.MustDeploy(t, f.deployment(v2, web(f.serve)))
	second := f.MustServe(t, v2)
	if info, err := f.cli.ContainerInspect(context.Background(), first.ID); err != nil || info.State.Running ||
		info.Name != "/"+docker.RetainedName(f.repo, f.env, "web", 0, first.ID) {
		t.Errorf("v1 container after v2: %+v (inspect err %v), want it stopped and retained", info.State, err)
	}

	t.Run("unhealthy release keeps the previous one", func(t *testing.T) {
		bad := dockertest.MustImage(t, f.cli, "web", noHealthCmd...)
		err := f.deploy(t, f.deployment(v3, web(bad)))
		if !events.IsPermanent(err) || !strings.Contains(err.Error(), "404") ||
			!strings.Contains(err.Error(), "started without a health endpoint") {
			t.Errorf("err = %v, want permanent with the 404 and the container's log", err)
		}
		if c := f.MustServe(t, v2); c.ID != second.ID {
			t.Errorf("v2 container replaced by %s", short(c.ID))
		}
	})

	t.Run("crashing release fails fast", func(t *testing.T) {
		crash := dockertest.MustImage(t, f.cli, "web", crashCmd...)
		patient, err := docker.New(docker.Options{HealthTimeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		defer patient.Close()
		start := time.Now()
		err = patient.Deploy(f.ctx, f.deployment(v3, web(crash)))
		if !events.IsPermanent(err) || !strings.Contains(err.Error(), "exited with code 3") ||
			!strings.Contains(err.Error(), "fatal: missing DATABASE_URL") {
			t.Errorf("err = %v, want permanent with exit code and log", err)
		}
		if took := time.Since(start); took > 30*time.Second {
			t.Errorf("crash detected after %s, want well before the health timeout", took)
		} else {
			t.Logf("crash detected after %s", took.Round(time.Millisecond))
		}
		f.MustServe(t, v2)
	})

	t.Run("same release twice is a no-op", func(t *testing.T) {
		f.MustDeploy(t, f.deployment(v2, web(f.serve)))
		if c := f.MustServe(t, v2); c.ID != second.ID {
			t.Errorf("redeploy of the live release replaced the container")
		}
	})

	t.Run("remove", func(t *testing.T) {
		if err := f.t.Remove(f.ctx, f.repo, f.env); err != nil {
			t.Fatal(err)
		}
		if cs := f.all(t); len(cs) != 0 {
			t.Errorf("containers left after Remove: %v", names(cs))
		}
		if _, err := f.replica0("web"); !errors.Is(err, docker.ErrNotLive) {
			t.Errorf("replica 0 after Remove: %v, want ErrNotLive", err)
		}
		code, body, _ := get(f.proxy.URL+"/", "web."+f.env+".shop.localhost")
		if code != http.StatusBadGateway {
			t.Errorf("proxy after Remove: %d %q, want 502", code, body)
		}
	})
}

func isNotFound(err error) bool { return cerrdefs.IsNotFound(err) }

// The proxy routes through the Target.
var _ proxy.Resolver = (*docker.Target)(nil)
