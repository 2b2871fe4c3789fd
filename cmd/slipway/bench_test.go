package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"

	"github.com/slipway-dev/slipway/buildkit"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/workflows/build"
)

// BenchmarkPushToStaging measures, in one run, a push of the sample
// monorepo until both services serve the new commit on staging through
// Slipway, against the same work done directly: one BuildKit client solve per
// service and one container run until its health check answers. "cold"
// changes a RUN step (its layer is rebuilt), "warm" only the files copied
// last (every earlier layer comes from the registry cache).
//
//	go test -run '^$' -bench PushToStaging -benchtime 3x ./cmd/slipway
func BenchmarkPushToStaging(b *testing.B) {
	requireComponents(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	e := startSlipway(b, ctx)
	s, err := sample.New(ctx, b.TempDir(), "e2e-secret")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	p := e.push(b, ctx, s, "Warm up", "")
	e.waitServing(b, ctx, p.After)
	e.waitIdle(b, ctx)

	d := newDirect(b, ctx, e.up.Config.Registry, e.up.Config.BuildkitHost)
	var total = map[string]time.Duration{}
	var runs []benchRun
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, kind := range []string{"cold", "warm"} {
			nonce := fmt.Sprintf("%s-%d-%d", kind, i, time.Now().UnixNano())
			change(b, s, kind, nonce)
			start := time.Now()
			p := e.push(b, ctx, s, "bench "+nonce, "")
			e.waitServing(b, ctx, p.After)
			total["slipway-"+kind] += time.Since(start)
			runs = append(runs, benchRun{path: "slipway", kind: kind, sha: p.After, start: start, end: time.Now()})
			e.waitIdle(b, ctx)

			change(b, s, kind, nonce+"-direct")
			start = time.Now()
			d.buildAndRun(b, ctx, s.Repo.Dir, nonce)
			total["direct-"+kind] += time.Since(start)
		}
	}
	b.StopTimer()
	for k, v := range total {
		b.ReportMetric(float64(v.Milliseconds())/float64(b.N), k+"-ms/op")
	}
	reportPhases(b, ctx, map[string]*env{"slipway": e}, runs)
	for _, kind := range []string{"cold", "warm"} {
		b.ReportMetric(float64(total["slipway-"+kind])/float64(total["direct-"+kind]), "slipway/direct-"+kind)
	}
}

// change edits both services: a RUN step for cold, start.sh for warm.
func change(tb testing.TB, s *sample.Sample, kind, nonce string) {
	tb.Helper()
	for _, svc := range []struct{ name, port string }{{"web", "8080"}, {"api", "9090"}} {
		var err error
		if kind == "cold" {
			err = s.WriteFile("services/"+svc.name+"/Dockerfile", fmt.Sprintf(
				"ARG BASE=localhost:5000/mirror/busybox:stable\nFROM ${BASE}\nRUN mkdir -p /www && echo ok > /www/healthz && echo %s > /www/nonce\nCOPY start.sh /start.sh\nCMD [\"sh\", \"/start.sh\"]\n", nonce))
		} else {
			err = s.WriteFile("services/"+svc.name+"/start.sh", fmt.Sprintf(
				"# %s\nprintf '%%s %%s\\n' \"$SLIPWAY_SERVICE\" \"$SLIPWAY_COMMIT\" > /www/index.html\nexec httpd -f -p %s -h /www\n", nonce, svc.port))
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// direct is the raw tools doing Slipway's job: a BuildKit solve and a
// container run per service.
type direct struct {
	registry string
	builder  *buildkit.Builder
	docker   *client.Client
}

func newDirect(tb testing.TB, ctx context.Context, registry, buildkitHost string) *direct {
	bk, err := buildkit.New(ctx, buildkitHost)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { bk.Close() })
	return &direct{registry: registry, builder: bk, docker: dockertest.MustDocker(tb)}
}

func (d *direct) buildAndRun(tb testing.TB, ctx context.Context, dir, nonce string) {
	tb.Helper()
	for _, svc := range []struct{ name, port string }{{"web", "8080"}, {"api", "9090"}} {
		ctxDir := filepath.Join(dir, "services", svc.name)
		name := d.registry + "/bench/direct/" + svc.name
		res, err := d.builder.Build(ctx, build.Request{
			ContextDir: ctxDir, Dockerfile: filepath.Join(ctxDir, "Dockerfile"),
			Image: name + ":" + nonce, CacheRef: name + ":buildcache",
		})
		if err != nil {
			tb.Fatal(err)
		}
		d.run(tb, ctx, name+"@"+res.Digest, svc.port)
	}
}

// run pulls ref, runs it with its port published and waits for /healthz.
func (d *direct) run(tb testing.TB, ctx context.Context, ref, port string) {
	tb.Helper()
	rc, err := d.docker.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	_, err = io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil {
		tb.Fatal(err)
	}
	p := nat.Port(port + "/tcp")
	c, err := d.docker.ContainerCreate(ctx, &container.Config{Image: ref, ExposedPorts: nat.PortSet{p: {}}},
		&container.HostConfig{Init: ptr(true), PortBindings: nat.PortMap{p: {{HostIP: "127.0.0.1"}}}}, nil, nil, "")
	if err != nil {
		tb.Fatal(err)
	}
	defer d.docker.ContainerRemove(context.WithoutCancel(ctx), c.ID, container.RemoveOptions{Force: true})
	if err := d.docker.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		tb.Fatal(err)
	}
	info, err := d.docker.ContainerInspect(ctx, c.ID)
	if err != nil {
		tb.Fatal(err)
	}
	url := "http://127.0.0.1:" + info.NetworkSettings.Ports[p][0].HostPort + "/healthz"
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s never answered %s", ref, url)
		}
	}
}

func ptr[T any](v T) *T { return &v }
