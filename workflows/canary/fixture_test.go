package canary_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	dockerevents "github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/proxy"
	"github.com/slipway-dev/slipway/workflows/canary"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// appCmd serves /cgi-bin/app: the commit it runs, or, when FAIL=1, a 500
// for every other request; /healthz answers until /cgi-bin/break is asked
// for. exec makes httpd PID 1 so SIGTERM stops it.
var appCmd = []string{"sh", "-c", `mkdir -p /www/cgi-bin && echo ok > /www/healthz && echo 0 > /tmp/n &&
cat > /www/cgi-bin/app <<EOF
#!/bin/sh
n=\$(cat /tmp/n); echo \$((n+1)) > /tmp/n
if [ "$FAIL" = 1 ] && [ \$((n % 2)) = 0 ]; then
  printf 'HTTP/1.0 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nfail\n'
else
  printf 'Content-Type: text/plain\r\n\r\n$SLIPWAY_COMMIT\n'
fi
EOF
printf '#!/bin/sh\nrm -f /www/healthz\nprintf "Content-Type: text/plain\\r\\n\\r\\nbroken\\n"\n' > /www/cgi-bin/break &&
chmod +x /www/cgi-bin/app /www/cgi-bin/break && exec httpd -f -p 8080 -h /www`}

// fixture is a Docker target wrapped by a canary controller, a NATS KV
// store and the proxy in front, splitting by it.
type fixture struct {
	t      *docker.Target
	target deploy.Target // the controller's
	cli    *client.Client
	store  *natsstore.CanaryStore
	proxy  *httptest.Server
	repo   string
	env    string
	ctx    context.Context
	img    dockertest.Image
}

// mustFixture returns a fixture for a fresh environment, removed when the
// test ends.
func mustFixture(tb testing.TB) *fixture {
	tb.Helper()
	cli := dockertest.MustDocker(tb)
	opts := docker.DefaultOptions()
	opts.DrainDelay = 500 * time.Millisecond
	target, err := docker.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	env := dockertest.RandomName("c")
	tb.Cleanup(func() {
		for _, e := range []string{env, canary.ShadowEnv(env)} {
			if err := target.Remove(context.Background(), "acme/shop", e); err != nil {
				tb.Errorf("remove %s: %v", e, err)
			}
		}
		target.Close()
	})
	srv := natsjs.MustServer(tb)
	_, js := natsjs.MustJetStream(tb, srv.ClientURL())
	kv, err := js.KeyValue(context.Background(), natsjs.BucketCanary)
	if err != nil {
		tb.Fatal(err)
	}
	store := natsstore.NewCanaryStore(kv)
	log := zerolog.New(zerolog.ConsoleWriter{Out: zerolog.TestWriter{T: tb}, NoColor: true})
	ctx, cancel := context.WithCancel(log.WithContext(context.Background()))
	p := proxy.New(target, "", proxy.WithHosts(proxy.StaticHosts{Labels: map[string]string{"shop": "acme/shop"}}), proxy.WithSplits(store, "test-proxy"))
	done := make(chan struct{})
	go func() { defer close(done); _ = p.PublishCounts(ctx) }()
	hs := httptest.NewServer(p)
	tb.Cleanup(func() { hs.Close(); cancel(); <-done })
	ctrl := &canary.Controller{Store: store, Poll: 100 * time.Millisecond, Drain: time.Second}
	return &fixture{
		t: target, target: ctrl.Wrap(target), cli: cli, store: store, proxy: hs, repo: "acme/shop", env: env, ctx: ctx,
		img: dockertest.MustImage(tb, cli, "app", appCmd...),
	}
}

// deployment returns the deployment of commit with FAIL=fail and rollout.
// The commit changes the service (RELEASE=<commit>), as a real commit
// changes what it deploys: a target keeps the containers of a service
// whose image and values did not change.
func (f *fixture) deployment(commit string, fail bool, rollout *events.Rollout) deploy.Deployment {
	env := map[string]string{"FAIL": "0", "RELEASE": commit}
	if fail {
		env["FAIL"] = "1"
	}
	return deploy.Deployment{Env: f.env, Repo: f.repo, Commit: commit, Rollout: rollout, Images: []events.Image{{
		Ref: f.img.Ref, Digest: f.img.Digest,
		Service: events.ServiceSpec{Name: "app", Port: 8080, HealthPath: "/healthz", Env: env},
	}}}
}

// host is the proxy's host name of the fixture's service.
func (f *fixture) host() string { return "app." + f.env + ".shop.localhost" }

// mustDeploy deploys commit plainly and fails the test on an error.
func (f *fixture) mustDeploy(tb testing.TB, commit string) {
	tb.Helper()
	if err := f.target.Deploy(f.ctx, f.deployment(commit, false, nil)); err != nil {
		tb.Fatalf("deploy %s: %v", commit, err)
	}
}

// containerIDs returns the ids of the running containers of env: those
// named for its service (a container moved into env from its shadow keeps
// the shadow's slipway.env label).
func (f *fixture) containerIDs(tb testing.TB, env string) []string {
	tb.Helper()
	list, err := f.cli.ContainerList(context.Background(), container.ListOptions{
		Filters: filters.NewArgs(filters.Arg("name", "^/"+regexp.QuoteMeta(docker.LiveName(f.repo, env, "app"))+`(\.|$)`)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	var ids []string
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	return ids
}

// started returns the "create <name>" and "start <name>" events of the
// containers of the fixture's environment and its shadow since t, from
// the daemon's event log up to now.
func (f *fixture) started(tb testing.TB, since time.Time) []string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	msgs, errs := f.cli.Events(ctx, dockerevents.ListOptions{
		Since: strconv.FormatInt(since.Add(-time.Second).Unix(), 10), Until: strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10),
		Filters: filters.NewArgs(filters.Arg("type", "container"), filters.Arg("event", "create"), filters.Arg("event", "start")),
	})
	var out []string
	for {
		select {
		case m := <-msgs:
			if e := m.Actor.Attributes["slipway.env"]; m.Actor.Attributes["slipway.repo"] == f.repo && (e == f.env || e == canary.ShadowEnv(f.env)) &&
				time.Unix(0, m.TimeNano).After(since) {
				out = append(out, string(m.Action)+" "+m.Actor.Attributes["name"])
			}
		case err := <-errs:
			if !errors.Is(err, io.EOF) {
				tb.Fatalf("docker events: %v", err)
			}
			return out
		}
	}
}

// answer is one response the client got.
type answer struct {
	status int
	body   string
	err    error
	at     time.Time
}

// load sends requests through the proxy without pause until stopped,
// and keeps every answer.
type load struct {
	mu      sync.Mutex
	answers []answer
	stop    chan struct{}
	done    chan struct{}
}

// startClient starts a load of f's service with n concurrent senders.
func startClient(f *fixture, n int) *load {
	c := &load{stop: make(chan struct{}), done: make(chan struct{})}
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: 10 * time.Second}
	for range n {
		wg.Go(func() {
			for {
				select {
				case <-c.stop:
					return
				default:
				}
				a := request(hc, f.proxy.URL+"/cgi-bin/app", f.host())
				c.mu.Lock()
				c.answers = append(c.answers, a)
				c.mu.Unlock()
			}
		})
	}
	go func() { wg.Wait(); close(c.done) }()
	return c
}

// request sends one GET with host and returns the answer.
func request(hc *http.Client, url, host string) answer {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return answer{err: err, at: time.Now()}
	}
	req.Host = host
	resp, err := hc.Do(req)
	if err != nil {
		return answer{err: err, at: time.Now()}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: strings.TrimSpace(string(b)), err: err, at: time.Now()}
}

// halt stops the client and returns its answers.
func (c *load) halt() []answer {
	close(c.stop)
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answers
}

// waitFor waits until the client has seen an answer for which ok holds.
func (c *load) waitFor(tb testing.TB, what string, ok func(answer) bool) {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for seen := 0; time.Now().Before(deadline); {
		c.mu.Lock()
		for _, a := range c.answers[seen:] {
			if ok(a) {
				c.mu.Unlock()
				return
			}
		}
		seen = len(c.answers)
		c.mu.Unlock()
		select {
		case <-c.done:
			tb.Fatalf("client stopped before %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
	tb.Fatalf("no answer %s within a minute", what)
}

// mustRolledBack returns the analysis err carries, failing the test when
// it is no permanent *deploy.RolledBackError.
func mustRolledBack(tb testing.TB, err error) events.Analysis {
	tb.Helper()
	var rb *deploy.RolledBackError
	if !errors.As(err, &rb) || !events.IsPermanent(err) {
		tb.Fatalf("deploy = %v, want a permanent *deploy.RolledBackError", err)
	}
	return rb.Analysis
}
