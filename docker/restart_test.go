package docker_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	devents "github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/proxy"
)

// liveIDs returns the id of each service's live replica 0, by service,
// from the containers named in the environment (one moved into it keeps
// the slipway.env label of the environment it started in).
func (f *fixture) liveIDs(tb testing.TB) map[string]string {
	tb.Helper()
	ids := map[string]string{}
	for _, c := range f.named(tb, f.env) {
		l := c.Labels
		if c.Names[0] == "/"+docker.LiveName(f.repo, f.env, l[docker.LabelService]) && c.State == "running" {
			ids[l[docker.LabelService]] = c.ID
		}
	}
	return ids
}

// MustCommit asserts that Current reports every service of the
// environment running commit, and that the proxy reaches each, answering
// body (the commit its container was started at).
func (f *fixture) MustCommit(tb testing.TB, commit string, bodies map[string]string) {
	tb.Helper()
	rel, err := f.t.Current(f.ctx, f.repo, f.env)
	if err != nil {
		tb.Fatal(err)
	}
	if rel.Commit() != commit || len(rel.Services) != len(bodies) {
		tb.Fatalf("Current() = %+v, want %d services at %s", rel, len(bodies), short(commit))
	}
	for _, s := range rel.Services {
		if !s.Running || s.Commit != commit {
			tb.Errorf("service %s: commit %s running %v, want %s running", s.Name, short(s.Commit), s.Running, short(commit))
		}
		if got := MustGet(tb, f.proxy.URL+"/", s.Name+"."+f.env+".shop.localhost"); got != bodies[s.Name] {
			tb.Errorf("%s via proxy = %q, want %q", s.Name, short(got), short(bodies[s.Name]))
		}
	}
}

// TestDeployRestartsOnlyWhatChanged: a commit that changes one service's
// image replaces that service's container and keeps the other's (same
// container id, still answering with the commit it was started at), and
// the environment reads back as the new commit. A changed value (env) is
// a change too. When a changed service fails its health gate, every
// service keeps serving the previous commit.
func TestDeployRestartsOnlyWhatChanged(t *testing.T) {
	f := MustFixture(t, fastOptions())
	v1, v2, v3, v4 := dockertest.RandomCommit(), dockertest.RandomCommit(), dockertest.RandomCommit(), dockertest.RandomCommit()
	api1 := named("api", web(dockertest.MustImage(t, f.cli, "api", serveCmd...)))
	f.MustDeploy(t, f.release(v1, web(f.serve), api1))
	before := f.liveIDs(t)

	api2 := named("api", web(dockertest.MustImage(t, f.cli, "api", serveCmd...)))
	// web's image again, under the tag of v2 (a reused build is tagged with
	// each commit): the same digest in the same repository is unchanged.
	retagged := web(f.serve)
	retagged.Ref = f.serve.Ref[:strings.LastIndex(f.serve.Ref, ":")] + ":" + v2[:12]
	f.MustDeploy(t, f.release(v2, retagged, api2))
	after := f.liveIDs(t)
	if after["web"] != before["web"] {
		t.Errorf("unchanged web: container %s replaced by %s, want it kept", short(before["web"]), short(after["web"]))
	}
	if after["api"] == before["api"] || after["api"] == "" {
		t.Errorf("changed api: container %s after the deploy, want a new one (was %s)", short(after["api"]), short(before["api"]))
	}
	f.MustCommit(t, v2, map[string]string{"web": v1, "api": v2})

	t.Run("a failed changed service leaves the previous commit serving", func(t *testing.T) {
		bad := named("api", web(dockertest.MustImage(t, f.cli, "api", noHealthCmd...)))
		err := f.deploy(t, f.release(v3, web(f.serve), bad))
		if !events.IsPermanent(err) || !strings.Contains(err.Error(), "service api") {
			t.Fatalf("err = %v, want a permanent failure naming api", err)
		}
		if got := f.liveIDs(t); got["web"] != after["web"] || got["api"] != after["api"] {
			t.Errorf("live containers %v after a failed deploy, want %v", got, after)
		}
		f.MustCommit(t, v2, map[string]string{"web": v1, "api": v2})
	})

	t.Run("a changed value restarts its service", func(t *testing.T) {
		greeted := web(f.serve)
		greeted.Service.Env = map[string]string{"GREETING": "hello"}
		f.MustDeploy(t, f.release(v4, greeted, api2))
		got := f.liveIDs(t)
		if got["web"] == after["web"] || got["api"] != after["api"] {
			t.Errorf("live containers %v, want web replaced and api %s kept", got, short(after["api"]))
		}
		f.MustCommit(t, v4, map[string]string{"web": v4, "api": v2})
	})
}

// TestRollbackToRetainedRelease: the containers of the last Retain
// releases stay on the daemon, stopped, older ones are removed, and a
// rollback to a retained release starts its container again: the same
// container, no image pulled, even when the image's tag was removed from
// the daemon (as an image prune would).
func TestRollbackToRetainedRelease(t *testing.T) {
	f := MustFixture(t, fastOptions())
	var commits []string
	var imgs []dockertest.Image
	var ids []string
	for i := range 5 {
		commits = append(commits, dockertest.RandomCommit())
		img := f.serve
		if i > 0 {
			img = dockertest.MustImage(t, f.cli, "web", serveCmd...)
		}
		imgs = append(imgs, img)
		d := f.release(commits[i], web(img))
		d.Retain = 3
		f.MustDeploy(t, d)
		ids = append(ids, f.liveIDs(t)["web"])
	}
	retained := map[string]string{} // id to commit
	for _, c := range f.all(t) {
		if c.State != "running" {
			retained[c.ID] = c.Labels[docker.LabelCommit]
			if want := "/" + docker.RetainedName(f.repo, f.env, "web", 0, c.ID); c.Names[0] != want {
				t.Errorf("retained container named %s, want %s", c.Names[0], want)
			}
		}
	}
	for i, id := range ids[:4] {
		if _, kept := retained[id]; kept != (i >= 1) {
			t.Errorf("container of release %d (%s) retained: %v, want %v", i+1, short(commits[i]), kept, i >= 1)
		}
	}
	if len(retained) != 3 {
		t.Errorf("retained %v, want the containers of the 3 releases before the current one", retained)
	}

	// The image of release 2 loses its tag where no container holds it.
	_, _ = f.cli.ImageRemove(context.Background(), imgs[1].Ref, image.RemoveOptions{})
	start := time.Now()
	d := f.release(commits[1], web(imgs[1]))
	d.Retain = 3
	f.MustDeploy(t, d)
	t.Logf("rollback to a retained release: %s", time.Since(start).Round(time.Millisecond))
	if got := f.liveIDs(t)["web"]; got != ids[1] {
		t.Errorf("live container %s after the rollback, want the retained %s", short(got), short(ids[1]))
	}
	f.MustCommit(t, commits[1], map[string]string{"web": commits[1]})
	if pulls := f.pulls(t, start, imgs[1].Digest); len(pulls) > 0 {
		t.Errorf("rollback to a retained release pulled %v, want no pull", pulls)
	}
}

// pulls returns the daemon's image pull events since start naming dgst.
func (f *fixture) pulls(tb testing.TB, start time.Time, dgst string) []string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msgs, errs := f.cli.Events(ctx, devents.ListOptions{
		Since:   start.Add(-time.Second).Format(time.RFC3339Nano),
		Until:   time.Now().Add(time.Second).Format(time.RFC3339Nano),
		Filters: filters.NewArgs(filters.Arg("type", string(devents.ImageEventType)), filters.Arg("event", string(devents.ActionPull))),
	})
	var out []string
	for {
		select {
		case m := <-msgs:
			if strings.Contains(m.Actor.ID, dgst) {
				out = append(out, m.Actor.ID)
			}
		case err := <-errs:
			if err != nil && ctx.Err() == nil && !strings.Contains(err.Error(), "EOF") {
				tb.Fatalf("read docker events: %v", err)
			}
			return out
		}
	}
}

// TestDrainEndsWithRequestsInFlight: with the proxy's Flights as Drainer,
// a replaced container is stopped once no request is in flight to it, not
// after the whole DrainDelay.
func TestDrainEndsWithRequestsInFlight(t *testing.T) {
	flights := proxy.NewFlights()
	opts := fastOptions()
	opts.DrainDelay = 30 * time.Second
	opts.Drainer = flights
	f := MustFixture(t, opts)
	p := proxy.New(f.t, "", proxy.WithHosts(proxy.StaticHosts{Labels: map[string]string{"shop": "acme/shop"}}), proxy.WithFlights(flights), proxy.WithTTL(200*time.Millisecond))
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	f.proxy = srv
	v1, v2 := dockertest.RandomCommit(), dockertest.RandomCommit()
	f.MustDeploy(t, f.release(v1, web(f.serve)))
	if got := MustGet(t, f.proxy.URL+"/", "web."+f.env+".shop.localhost"); got != v1 {
		t.Fatalf("via proxy = %q, want v1", got)
	}
	old := f.liveIDs(t)["web"]
	start := time.Now()
	f.MustDeploy(t, f.release(v2, web(dockertest.MustImage(t, f.cli, "web", serveCmd...))))
	took := time.Since(start)
	if took > 15*time.Second {
		t.Errorf("deploy took %s with nothing in flight, want well below the 30s drain bound", took)
	}
	info, err := f.cli.ContainerInspect(context.Background(), old)
	if err != nil || info.State.Running {
		t.Errorf("replaced container %s: running %v (err %v), want stopped", short(old), info.State != nil && info.State.Running, err)
	}
	f.MustCommit(t, v2, map[string]string{"web": v2})
}
