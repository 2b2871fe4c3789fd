package docker_test

import (
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
)

// TestDeployIsWholeCommit: when one service of a commit fails its health
// check, no service moves: every service of the environment keeps running
// the previous commit, in the same containers, and no candidate is left.
func TestDeployIsWholeCommit(t *testing.T) {
	f := MustFixture(t, fastOptions())
	v1, v2 := dockertest.RandomCommit(), dockertest.RandomCommit()
	api := named("api", web(f.serve))
	f.MustDeploy(t, f.deployment(v1, web(f.serve), api))
	before := map[string]string{}
	for _, c := range f.containers(t) {
		before[c.Labels[docker.LabelService]] = c.ID
	}

	bad := named("api", web(dockertest.MustImage(t, f.cli, "api", noHealthCmd...)))
	err := f.deploy(t, f.deployment(v2, web(f.serve), bad))
	if !events.IsPermanent(err) || !strings.Contains(err.Error(), "service api") {
		t.Fatalf("err = %v, want a permanent failure naming api", err)
	}

	rel, err := f.t.Current(f.ctx, f.repo, f.env)
	if err != nil {
		t.Fatal(err)
	}
	if rel.Commit() != v1 || len(rel.Services) != 2 {
		t.Fatalf("Current() = %+v, want web and api at v1", rel)
	}
	cs := f.containers(t)
	if len(cs) != 2 {
		t.Fatalf("containers %v, want the two of v1 and no candidate", names(cs))
	}
	for _, c := range cs {
		svc := c.Labels[docker.LabelService]
		if c.ID != before[svc] || c.Labels[docker.LabelCommit] != v1 || c.State != "running" {
			t.Errorf("%s: container %s at %s (%s), want the v1 container %s", svc, short(c.ID), short(c.Labels[docker.LabelCommit]), c.State, short(before[svc]))
		}
		if got := MustGet(t, f.proxy.URL+"/", svc+"."+f.env+".shop.localhost"); got != v1 {
			t.Errorf("%s via proxy = %q, want v1", svc, got)
		}
	}
}
