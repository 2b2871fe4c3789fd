package sshhost_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"
	"golang.org/x/sync/errgroup"

	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/sshhost"
)

// BenchmarkRemoteDeploy measures, in one run, a deploy of a one-service
// release (the busybox web image; the image is on the hosts already, as
// from the second commit on) to 1 and 3 SSH hosts, batch 1 and 3, against
// the same container started by hand over the same kind of SSH connection
// (pull by digest, create, start, wait for a 2xx, remove the previous one),
// and a no-op redeploy against one `docker ps` per host. Run with
// -benchtime=3x; the ratios are slipway over by hand.
func BenchmarkRemoteDeploy(b *testing.B) {
	f := mustFixture(b, 3)
	f.ctx = context.Background()
	deployTo := func(n, batch int) func() {
		opts := f.options(batch)
		opts.Hosts = opts.Hosts[:n]
		tg := mustTarget(b, opts)
		return func() {
			if err := tg.Deploy(f.ctx, f.deployment(dockertest.RandomCommit(), f.serve)); err != nil {
				b.Fatal(err)
			}
		}
	}
	byHand := func(n int, parallel bool) func() {
		hs := handHosts(b, f, n)
		return func() {
			var g errgroup.Group
			for _, h := range hs {
				if parallel {
					g.Go(func() error { return h.run(f) })
				} else if err := h.run(f); err != nil {
					b.Fatal(err)
				}
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	}
	noop := func() func() {
		tg := mustTarget(b, f.options(3))
		d := f.deployment(dockertest.RandomCommit(), f.serve)
		d.Env = dockertest.RandomName("noop") // the other runs deploy f.env
		b.Cleanup(func() { _ = tg.Remove(context.Background(), d.Repo, d.Env) })
		if err := tg.Deploy(f.ctx, d); err != nil {
			b.Fatal(err)
		}
		return func() {
			if err := tg.Deploy(f.ctx, d); err != nil {
				b.Fatal(err)
			}
		}
	}
	list := func() func() {
		hs := handHosts(b, f, 3)
		return func() {
			var g errgroup.Group
			for _, h := range hs {
				g.Go(func() error { _, err := h.cli.ContainerList(f.ctx, container.ListOptions{All: true}); return err })
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	}
	runs := []struct {
		name string
		fn   func()
	}{
		{"slipway-1host", deployTo(1, 1)}, {"hand-1host", byHand(1, false)},
		{"slipway-3hosts-batch1", deployTo(3, 1)}, {"hand-3hosts-serial", byHand(3, false)},
		{"slipway-3hosts-batch3", deployTo(3, 3)}, {"hand-3hosts-parallel", byHand(3, true)},
		{"noop-3hosts", noop()}, {"ps-3hosts", list()},
	}
	for _, r := range runs {
		r.fn() // warm: images pulled, connections open
	}
	ms := map[string]float64{}
	b.ResetTimer()
	for range b.N {
		for _, r := range runs {
			start := time.Now()
			r.fn()
			ms[r.name] += float64(time.Since(start).Microseconds()) / 1000
		}
	}
	for _, r := range runs {
		ms[r.name] /= float64(b.N)
		b.ReportMetric(ms[r.name], "ms/"+r.name)
	}
	b.ReportMetric(ms["slipway-1host"]/ms["hand-1host"], "ratio-1host")
	b.ReportMetric(ms["slipway-3hosts-batch1"]/ms["hand-3hosts-serial"], "ratio-3hosts-batch1")
	b.ReportMetric(ms["slipway-3hosts-batch3"]/ms["hand-3hosts-parallel"], "ratio-3hosts-batch3")
	b.ReportMetric(ms["noop-3hosts"]/ms["ps-3hosts"], "ratio-noop-to-ps")
}

// handHost is a host the benchmark drives by hand over SSH.
type handHost struct {
	conn *sshhost.Conn
	cli  *client.Client
	prev string // the container the next run replaces

}

// handHosts opens an SSH connection and a Docker client over it to each of
// the first n hosts.
func handHosts(tb testing.TB, f *fixture, n int) []*handHost {
	tb.Helper()
	var hs []*handHost
	for _, h := range f.hosts.List[:n] {
		a, err := sshhost.ParseAddress(h.URL())
		if err != nil {
			tb.Fatal(err)
		}
		conn := sshhost.NewConn(a, sshhost.Auth{Key: f.hosts.Key, KnownHosts: f.hosts.KnownHosts})
		cli, err := client.NewClientWithOpts(client.WithHost("unix://"+a.Socket), client.WithAPIVersionNegotiation(), client.WithDialContext(conn.DialDocker))
		if err != nil {
			tb.Fatal(err)
		}
		hh := &handHost{conn: conn, cli: cli}
		tb.Cleanup(func() {
			if hh.prev != "" {
				_ = cli.ContainerRemove(context.Background(), hh.prev, container.RemoveOptions{Force: true})
			}
			cli.Close()
			conn.Close()
		})
		hs = append(hs, hh)
	}
	return hs
}

// run starts the web container by hand, waits for its 2xx and removes the
// previous one.
func (h *handHost) run(f *fixture) error {
	ctx := f.ctx
	ref := f.hosts.PullRef(f.serve.Ref) + "@" + f.serve.Digest
	if _, err := h.cli.ImageInspect(ctx, ref); err != nil {
		rc, err := h.cli.ImagePull(ctx, ref, imagePullOptions())
		if err != nil {
			return err
		}
		drain(rc)
	}

	port := nat.Port("8080/tcp")
	c, err := h.cli.ContainerCreate(ctx, &container.Config{Image: ref, ExposedPorts: nat.PortSet{port: {}}},
		&container.HostConfig{PortBindings: nat.PortMap{port: {{HostIP: "127.0.0.1"}}}}, nil, nil, dockertest.RandomName("hand"))
	if err != nil {
		return err
	}
	if err := h.cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		return err
	}
	info, err := h.cli.ContainerInspect(ctx, c.ID)
	if err != nil {
		return err
	}
	addr := net.JoinHostPort("127.0.0.1", info.NetworkSettings.Ports[port][0].HostPort)
	probe := http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, DialContext: h.conn.DialContext}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := probe.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("container by hand not healthy after 10s: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if h.prev != "" {
		if err := h.cli.ContainerRemove(ctx, h.prev, container.RemoveOptions{Force: true}); err != nil {
			return err
		}
	}
	h.prev = c.ID
	return nil
}

func imagePullOptions() image.PullOptions { return image.PullOptions{} }

// drain reads a pull's progress to its end and closes it.
func drain(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, rc)
	rc.Close()
}
