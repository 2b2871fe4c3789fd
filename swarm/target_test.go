package swarm_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/internal/testhost"
	"github.com/slipway-dev/slipway/proxy"
	swarmtarget "github.com/slipway-dev/slipway/swarm"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target/targettest"
)

// fixture is a swarm, a Target on it and a fresh environment.
type fixture struct {
	c        *cluster
	tg       *swarmtarget.Target
	repo     string
	env      string
	ctx      context.Context
	serve    dockertest.Image
	nohealth dockertest.Image
}

// mustFixture starts a swarm of n nodes and builds the images.
func mustFixture(tb testing.TB, n int) *fixture {
	tb.Helper()
	cli := dockertest.MustDocker(tb)
	f := &fixture{
		c: mustSwarm(tb, n), repo: "acme/shop", env: dockertest.RandomName("t"),
		serve:    dockertest.MustImage(tb, cli, "serve", targettest.ServeCmd...),
		nohealth: dockertest.MustImage(tb, cli, "nohealth", targettest.NoHealthCmd...),
	}
	f.tg = f.c.mustTarget(tb)
	log := zerolog.New(zerolog.ConsoleWriter{Out: zerolog.TestWriter{T: tb}, NoColor: true})
	f.ctx = log.WithContext(context.Background())
	return f
}

// deployment is commit of the fixture's environment running img as web
// with replicas, changed by the commit (RELEASE=<commit> in its env) as a
// real commit changes what it deploys: a service a commit does not change
// keeps its tasks (TestUnchangedServiceKeepsItsTasks).
func (f *fixture) deployment(commit string, img dockertest.Image, replicas int) deploy.Deployment {
	return deploy.Deployment{Repo: f.repo, Env: f.env, Commit: commit, Images: []events.Image{{
		Service: events.ServiceSpec{Name: "web", Port: targettest.Port, HealthPath: "/healthz", Replicas: replicas, Env: map[string]string{"RELEASE": commit}},
		Ref:     img.Ref, Digest: img.Digest,
	}}}
}

// mustWeb returns the web service as Current reports it.
func (f *fixture) mustWeb(tb testing.TB) deploy.ServiceState {
	tb.Helper()
	rel, err := f.tg.Current(f.ctx, f.repo, f.env)
	if err != nil {
		tb.Fatal(err)
	}
	if len(rel.Services) != 1 {
		tb.Fatalf("Current() = %+v, want the web service", rel)
	}
	return rel.Services[0]
}

// loadClient sends requests to the web service one after another until it is
// stopped, spread over the addresses ResolveAll returned, resolved again
// after proxy.DefaultTTL (the way the proxy caches them), and counts them.
type loadClient struct {
	f                *fixture
	ok, failed       atomic.Int64
	mu               sync.Mutex
	bodies, failures []string
	stop             chan struct{}
	done             chan struct{}
}

// startClient starts a client; stopping it returns what it counted.
func (f *fixture) startClient() *loadClient {
	c := &loadClient{f: f, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

func (c *loadClient) run() {
	defer close(c.done)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true, Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return c.f.tg.Dial(ctx, network, addr)
		},
	}}
	var addrs []string
	var resolved time.Time
	for i := 0; ; i++ {
		select {
		case <-c.stop:
			return
		default:
		}
		if time.Since(resolved) > proxy.DefaultTTL {
			var err error
			if addrs, err = c.f.tg.ResolveAll(c.f.ctx, c.f.repo, c.f.env, "web"); err != nil {
				c.fail("resolve: " + err.Error())
				continue
			}
			resolved = time.Now()
		}
		resp, err := hc.Get("http://" + addrs[i%len(addrs)] + "/")
		if err != nil {
			c.fail(err.Error())
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			c.fail(resp.Status)
			continue
		}
		c.ok.Add(1)
		c.mu.Lock()
		c.bodies = append(c.bodies, strings.TrimSpace(string(b)))
		c.mu.Unlock()
	}
}

func (c *loadClient) fail(why string) {
	c.failed.Add(1)
	c.mu.Lock()
	c.failures = append(c.failures, why)
	c.mu.Unlock()
}

// halt stops the client and returns the bodies it was served.
func (c *loadClient) halt() []string {
	close(c.stop)
	<-c.done
	return c.bodies
}

// gracefulCmd serves like targettest.ServeCmd and exits at once on
// SIGTERM, as a server should (busybox httpd as PID 1 ignores it, and would
// keep serving through the stop grace period).
var gracefulCmd = []string{"sh", "-c", `mkdir -p /www && echo "$SLIPWAY_COMMIT" > /www/index.html && ` +
	`echo ok > /www/healthz && httpd -f -p 8080 -h /www & trap 'exit 0' TERM; wait`}

// TestFailedUpdateKeepsServing: while a client sends requests without a
// pause, an update whose new tasks never answer their health check, one
// whose tasks crash and one whose image no node can pull all fail for
// good, each with its reason, the previous commit serves every request of
// the client from the same tasks on both nodes, and a good update then
// replaces it without one failed request, though the previous tasks exit
// as soon as they are stopped.
func TestFailedUpdateKeepsServing(t *testing.T) {
	f := mustFixture(t, 2)
	opts := f.c.options()
	// Long enough for a task's state to reach the manager on a loaded
	// machine: a crash is then its exit, an image not found its rejection.
	opts.Docker.HealthTimeout, opts.Docker.DrainDelay = 10*time.Second, 2*time.Second
	tg, err := swarmtarget.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tg.Close() })
	f.tg = tg

	f.serve = dockertest.MustImage(t, dockertest.MustDocker(t), "graceful", gracefulCmd...)
	v1 := targettest.RandomCommit()
	if err := f.tg.Deploy(f.ctx, f.deployment(v1, f.serve, 2)); err != nil {
		t.Fatal(err)
	}
	before := f.mustWeb(t)
	if nodes := distinctNodes(before); len(nodes) != 2 {
		t.Fatalf("web's 2 replicas run on %v, want one on each node", nodes)
	}

	cl := f.startClient()
	missing := dockertest.Image{Ref: f.serve.Ref, Digest: "sha256:" + strings.Repeat("0", 64)}
	for _, tt := range []struct {
		img    dockertest.Image
		reason string
	}{
		{f.nohealth, "GET /healthz"}, {mustCrash(t), targettest.CrashLine}, {missing, "task rejected"},
	} {
		err := f.tg.Deploy(f.ctx, f.deployment(targettest.RandomCommit(), tt.img, 2))
		var u *deploy.UnhealthyError
		if !events.IsPermanent(err) || !errors.As(err, &u) || !strings.Contains(u.Reason+"\n"+u.Logs, tt.reason) {
			t.Fatalf("deploy of %s@%s = %v, want a permanent *deploy.UnhealthyError for %q", tt.img.Ref, tt.img.Digest, err, tt.reason)
		}
	}
	bodies := cl.halt()
	if n := cl.failed.Load(); n != 0 || len(bodies) == 0 {
		t.Fatalf("client: %d requests failed (%v), %d served; want none failed", n, cl.failures, len(bodies))
	}
	for _, b := range bodies {
		if b != v1 {
			t.Fatalf("a request was served %q during the failed updates, want %s", b, v1)
		}
	}
	if after := f.mustWeb(t); !after.Running || strings.Join(after.Addrs, ",") != strings.Join(before.Addrs, ",") {
		t.Errorf("after the failed updates web = %+v, was %+v: want the same tasks running", after, before)
	}
	t.Logf("%d requests served by %s during three failed updates", len(bodies), v1[:12])

	cl = f.startClient()
	v2 := targettest.RandomCommit()
	if err := f.tg.Deploy(f.ctx, f.deployment(v2, f.serve, 2)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !servedLast(cl, v2) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	bodies = cl.halt()
	if n := cl.failed.Load(); n != 0 {
		t.Errorf("client: %d requests failed during a good update: %v", n, cl.failures)
	}
	if len(bodies) == 0 || bodies[len(bodies)-1] != v2 {
		t.Errorf("after the good update the client was last served %v, want %s", bodies[max(len(bodies)-3, 0):], v2)
	}
}

// servedLast reports whether the client's last answer was commit.
func servedLast(c *loadClient, commit string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.bodies) > 0 && c.bodies[len(c.bodies)-1] == commit
}

// mustCrash builds the image whose tasks exit at once.
func mustCrash(tb testing.TB) dockertest.Image {
	tb.Helper()
	return dockertest.MustImage(tb, dockertest.MustDocker(tb), "crash", targettest.CrashCmd...)
}

// distinctNodes returns the nodes s's instances run on.
func distinctNodes(s deploy.ServiceState) map[string]bool {
	m := map[string]bool{}
	for _, in := range s.Instances {
		m[in.Node] = true
	}
	return m
}

// TestNodeGone: when a worker's dockerd dies, Current never reports its
// task running once the manager sees the node down (the swarm stops meaning
// it to run as it marks the node down, and ResolveAll never hands it out),
// the swarm reschedules it on the manager, and the service is reported
// running and served again there; a deploy then succeeds on what is left.
func TestNodeGone(t *testing.T) {
	f := mustFixture(t, 2)
	v1 := targettest.RandomCommit()
	if err := f.tg.Deploy(f.ctx, f.deployment(v1, f.serve, 2)); err != nil {
		t.Fatal(err)
	}
	worker := f.c.hosts.List[1]
	workerAddr := testhost.LANIP(worker.Index)
	if web := f.mustWeb(t); !distinctNodes(web)[workerAddr] {
		t.Fatalf("web runs on %v, want a replica on the worker %s", distinctNodes(web), workerAddr)
	}
	mgr := f.c.hosts.List[0].Docker(t)
	worker.KillDockerd(t)

	sawDown := false
	deadline := time.Now().Add(2 * time.Minute)
	for {
		down := nodeDown(t, mgr, workerAddr)
		web := f.mustWeb(t)
		for _, in := range web.Instances {
			if down && in.Node == workerAddr && in.Running {
				t.Fatalf("the worker is down, yet Current reports its task running: %+v", in)
			}
		}
		sawDown = sawDown || down
		if down && web.Running && !distinctNodes(web)[workerAddr] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("2 minutes after the worker died web = %+v (worker down: %v), want 2 replicas on the manager", web, down)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !sawDown {
		t.Fatal("the manager never reported the worker down")
	}
	addrs, err := f.tg.ResolveAll(f.ctx, f.repo, f.env, "web")
	if err != nil || len(addrs) != 2 {
		t.Fatalf("ResolveAll = %v, %v; want 2 replicas on the manager", addrs, err)
	}
	for _, a := range addrs {
		if strings.HasPrefix(a, workerAddr+":") {
			t.Errorf("ResolveAll hands out %s, on the dead worker", a)
		}
	}
	v2 := targettest.RandomCommit()
	if err := f.tg.Deploy(f.ctx, f.deployment(v2, f.serve, 2)); err != nil {
		t.Fatalf("deploy with a node down: %v", err)
	}
	if web := f.mustWeb(t); !web.Running || web.Commit != v2 {
		t.Errorf("after the deploy web = %+v, want %s running", web, v2)
	}
}

// nodeDown reports whether the manager sees the node of addr down.
func nodeDown(tb testing.TB, mgr interface {
	NodeList(context.Context, swarm.NodeListOptions) ([]swarm.Node, error)
}, addr string) bool {
	tb.Helper()
	nodes, err := mgr.NodeList(context.Background(), swarm.NodeListOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, n := range nodes {
		if n.Status.Addr == addr {
			return n.Status.State == swarm.NodeStateDown
		}
	}
	tb.Fatalf("no node at %s", addr)
	return false
}

// TestInterruptedPromotion: a deploy that died between making its new
// service live and removing the previous one leaves two live services of
// one name; Current reports the one promoted last, and the next deploy
// leaves only its own.
func TestInterruptedPromotion(t *testing.T) {
	f := mustFixture(t, 2)
	v1, v2 := targettest.RandomCommit(), targettest.RandomCommit()
	if err := f.tg.Deploy(f.ctx, f.deployment(v1, f.serve, 1)); err != nil {
		t.Fatal(err)
	}
	mgr := f.c.hosts.List[0].Docker(t)
	d := f.deployment(v2, f.serve, 1)
	img := d.Images[0]
	img.Ref = f.c.hosts.PullRef(img.Ref)
	spec := swarmtarget.CandidateSpec(f.tg, d, img)
	spec.Labels[swarmtarget.LabelRole] = swarmtarget.RoleLive
	if _, err := mgr.ServiceCreate(f.ctx, spec, swarm.ServiceCreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for web := f.mustWeb(t); web.Commit != v2 || !web.Running; web = f.mustWeb(t) {
		if time.Now().After(deadline) {
			t.Fatalf("Current() reports web %+v, want %s (promoted last) running", web, v2[:12])
		}
		time.Sleep(100 * time.Millisecond)
	}

	if err := f.tg.Deploy(f.ctx, d); err != nil {
		t.Fatalf("deploy of the release promoted last: %v", err)
	}
	svcs, err := mgr.ServiceList(f.ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", docker.LabelEnv+"="+f.env))})
	if err != nil {
		t.Fatal(err)
	}
	if len(svcs) != 1 || svcs[0].Spec.Labels[docker.LabelCommit] != v2 {
		var names []string
		for _, s := range svcs {
			names = append(names, s.Spec.Name+"@"+s.Spec.Labels[swarmtarget.LabelRole])
		}
		t.Fatalf("after the next deploy the environment has services %v, want only %s's", names, v2[:12])
	}
}

// TestUnchangedServiceKeepsItsTasks: a commit that changes neither web's
// image nor its values keeps its service and tasks (the same IDs, still
// answering the commit they started at) and relabels the service: the
// environment reads back as the new commit, LabelStarted and the task
// containers' slipway.commit keep the commit the tasks started at. A
// service scaled in place is declared at its new count, so the next
// unchanged commit keeps it too.
func TestUnchangedServiceKeepsItsTasks(t *testing.T) {
	f := mustFixture(t, 2)
	v1, v2, v3 := targettest.RandomCommit(), targettest.RandomCommit(), targettest.RandomCommit()
	at := func(commit string, replicas int) deploy.Deployment {
		d := f.deployment(commit, f.serve, replicas)
		d.Images[0].Service.Env = nil
		return d
	}
	if err := f.tg.Deploy(f.ctx, at(v1, 1)); err != nil {
		t.Fatal(err)
	}
	before := f.mustLive(t)
	if err := f.tg.Deploy(f.ctx, at(v2, 1)); err != nil {
		t.Fatal(err)
	}
	after := f.mustLive(t)
	l := after.svc.Spec.Labels
	switch {
	case after.svc.ID != before.svc.ID || !slices.Equal(after.tasks, before.tasks):
		t.Errorf("service %s tasks %v after an unchanged commit, was %s tasks %v: want them kept", after.svc.ID, after.tasks, before.svc.ID, before.tasks)
	case l[docker.LabelCommit] != v2 || l[swarmtarget.LabelStarted] != v1:
		t.Errorf("labels commit %s, started %s; want %s, %s", l[docker.LabelCommit], l[swarmtarget.LabelStarted], v2[:12], v1[:12])
	case after.svc.Spec.TaskTemplate.ContainerSpec.Labels[docker.LabelCommit] != v1:
		t.Errorf("task containers are labelled %v, want the commit they started at, %s", after.svc.Spec.TaskTemplate.ContainerSpec.Labels, v1[:12])
	}
	if web := f.mustWeb(t); web.Commit != v2 || !web.Running || web.Instances[0].Commit != v2 {
		t.Errorf("Current() web = %+v, want %s running", web, v2[:12])
	}
	if got, err := f.get(t); err != nil || got != v1 {
		t.Errorf("web answers %q, %v; want the commit its task started at, %s", got, err, v1)
	}

	if err := f.tg.Deploy(f.ctx, at(v2, 2)); err != nil {
		t.Fatal(err)
	}
	scaled := f.mustLive(t)
	if err := f.tg.Deploy(f.ctx, at(v3, 2)); err != nil {
		t.Fatal(err)
	}
	if kept := f.mustLive(t); kept.svc.ID != scaled.svc.ID || !slices.Equal(kept.tasks, scaled.tasks) || len(kept.tasks) != 2 {
		t.Errorf("after scaling in place and an unchanged commit: service %s tasks %v, was %s tasks %v; want them kept", kept.svc.ID, kept.tasks, scaled.svc.ID, scaled.tasks)
	}
}

// live is the live web service and its running tasks' IDs, by slot.
type live struct {
	svc   swarm.Service
	tasks []string
}

// mustLive returns the live web service of the fixture's environment as
// the manager has it.
func (f *fixture) mustLive(tb testing.TB) live {
	tb.Helper()
	mgr := f.c.hosts.List[0].Docker(tb)
	svcs, err := mgr.ServiceList(f.ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", docker.LabelEnv+"="+f.env))})
	if err != nil || len(svcs) != 1 || svcs[0].Spec.Labels[swarmtarget.LabelRole] != swarmtarget.RoleLive {
		tb.Fatalf("services of %s: %d, %v; want one, live", f.env, len(svcs), err)
	}
	tasks, err := mgr.TaskList(f.ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", svcs[0].ID), filters.Arg("desired-state", "running"))})
	if err != nil {
		tb.Fatal(err)
	}
	slices.SortFunc(tasks, func(a, b swarm.Task) int { return a.Slot - b.Slot })
	l := live{svc: svcs[0]}
	for _, task := range tasks {
		l.tasks = append(l.tasks, task.ID)
	}
	return l
}

// get returns what web's first replica answers at /.
func (f *fixture) get(tb testing.TB) (string, error) {
	tb.Helper()
	addrs, err := f.tg.ResolveAll(f.ctx, f.repo, f.env, "web")
	if err != nil {
		return "", err
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil, DialContext: f.tg.Dial}}
	resp, err := hc.Get("http://" + addrs[0] + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b)), err
}
