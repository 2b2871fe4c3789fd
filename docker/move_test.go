package docker_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	devents "github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
)

// named returns the containers, running or not, whose names are in env of
// the fixture's repository, by name.
func (f *fixture) named(tb testing.TB, env string) map[string]container.Summary {
	tb.Helper()
	cs, err := f.cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("name", "^/"+regexp.QuoteMeta(strings.TrimSuffix(docker.LiveName(f.repo, env, "x"), "x"))))})
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]container.Summary{}
	for _, c := range cs {
		out[strings.TrimPrefix(c.Names[0], "/")] = c
	}
	return out
}

// created returns the create and start events of containers of the
// fixture's environment (and of those named after it) since start.
func (f *fixture) created(tb testing.TB, start time.Time) []string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msgs, errs := f.cli.Events(ctx, devents.ListOptions{
		Since: start.Add(-time.Second).Format(time.RFC3339Nano),
		Until: time.Now().Add(time.Second).Format(time.RFC3339Nano),
		Filters: filters.NewArgs(filters.Arg("type", string(devents.ContainerEventType)),
			filters.Arg("event", string(devents.ActionCreate)), filters.Arg("event", string(devents.ActionStart)),
			filters.Arg("label", docker.LabelRepo+"="+f.repo)),
	})
	var out []string
	for {
		select {
		case m := <-msgs:
			// Other packages' tests deploy the same repository at once:
			// only the fixture's environment and those named after it
			// (its canary's shadow) count.
			env := m.Actor.Attributes[docker.LabelEnv]
			if time.Unix(0, m.TimeNano).After(start) && (env == f.env || strings.HasPrefix(env, f.env+"--")) {
				out = append(out, string(m.Action)+" "+m.Actor.Attributes["name"])
			}
		case err := <-errs:
			if err != nil && ctx.Err() == nil && !strings.Contains(err.Error(), "EOF") {
				tb.Fatalf("read docker events: %v", err)
			}
			return out
		}
	}
}

// TestDeployFromMovesContainers: a deploy from another environment (a
// promoted canary's shadow) takes over the containers that run there with
// its values instead of starting new ones (no create, no start), keeps its
// own unchanged services, and leaves the other environment without them:
// removing it does not touch them. The moved container is retained and
// revived by the environment like any other.
func TestDeployFromMovesContainers(t *testing.T) {
	f := MustFixture(t, fastOptions())
	shadow := f.env + "--canary"
	t.Cleanup(func() { _ = f.t.Remove(context.Background(), f.repo, shadow) })
	v1, v2, v3 := dockertest.RandomCommit(), dockertest.RandomCommit(), dockertest.RandomCommit()
	api := named("api", web(f.serve))
	web2 := web(dockertest.MustImage(t, f.cli, "web", serveCmd...))
	f.MustDeploy(t, f.release(v1, web(f.serve), api))
	before := f.liveIDs(t)

	canary := f.release(v2, web2, api)
	canary.Env = shadow
	f.MustDeploy(t, canary)
	inShadow := f.named(t, shadow)
	shadowWeb := inShadow[docker.LiveName(f.repo, shadow, "web")].ID

	start := time.Now()
	d := f.release(v2, web2, api)
	d.From = shadow
	f.MustDeploy(t, d)
	if got := f.created(t, start); len(got) != 0 {
		t.Errorf("the deploy from %s created or started %v, want none", shadow, got)
	}
	after := f.liveIDs(t)
	if after["web"] != shadowWeb || after["api"] != before["api"] {
		t.Errorf("live containers %v, want web %s of the shadow and api %s kept", after, short(shadowWeb), short(before["api"]))
	}
	f.MustCommit(t, v2, map[string]string{"web": v2, "api": v1})

	if err := f.t.Remove(f.ctx, f.repo, shadow); err != nil {
		t.Fatal(err)
	}
	if left := f.named(t, shadow); len(left) != 0 {
		t.Errorf("the shadow keeps %d containers after its removal", len(left))
	}
	f.MustCommit(t, v2, map[string]string{"web": v2, "api": v1})

	f.MustDeploy(t, f.release(v3, web(f.serve), api))
	kept := docker.RetainedName(f.repo, f.env, "web", 0, shadowWeb)
	if c, ok := f.named(t, f.env)[kept]; !ok || c.State == "running" {
		t.Errorf("the moved web replaced by %s: want it stopped as %s (got %v)", short(v3), kept, ok)
	}
	f.MustDeploy(t, f.release(v2, web2, api))
	if got := f.liveIDs(t)["web"]; got != shadowWeb {
		t.Errorf("rollback to %s runs web %s, want the retained %s", short(v2), short(got), short(shadowWeb))
	}
	f.MustCommit(t, v2, map[string]string{"web": v2, "api": v1})
}
