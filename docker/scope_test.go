package docker_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
)

// TestTwoRepositoriesShareAnEnvironmentName: acme/shop and acme/blog both
// deploy a web service to an environment of one name. Neither deploy
// touches the other's container, each repository reads its own commit back
// from Docker, resolves its own address and answers at its own host, and
// removing one leaves the other serving.
func TestTwoRepositoriesShareAnEnvironmentName(t *testing.T) {
	shop := MustFixture(t, fastOptions())
	blog := *shop
	blog.repo = "acme/blog"
	t.Cleanup(func() {
		if err := shop.t.Remove(context.Background(), blog.repo, blog.env); err != nil {
			t.Errorf("remove the blog's %s: %v", blog.env, err)
		}
	})
	v1, v2, v3 := dockertest.RandomCommit(), dockertest.RandomCommit(), dockertest.RandomCommit()
	shop.MustDeploy(t, shop.deployment(v1, web(shop.serve)))
	before := repoContainers(t, shop)

	blog.MustDeploy(t, blog.deployment(v2, web(shop.serve)))
	blog.MustDeploy(t, blog.deployment(v3, web(shop.serve)))
	if after := repoContainers(t, shop); !slices.Equal(ids(after), ids(before)) {
		t.Fatalf("the shop's containers %v became %v when the blog deployed", ids(before), ids(after))
	}
	for _, tt := range []struct {
		f      *fixture
		label  string
		commit string
	}{{shop, "shop", v1}, {&blog, "blog", v3}} {
		rel, err := shop.t.Current(shop.ctx, tt.f.repo, tt.f.env)
		if err != nil || rel.Commit() != tt.commit || len(rel.Services) != 1 || !rel.Services[0].Running {
			t.Errorf("Current(%s) = %+v, %v, want web running %s", tt.f.repo, rel, err, short(tt.commit))
		}
		addr, err := tt.f.replica0("web")
		if err != nil || MustGet(t, "http://"+addr+"/", "") != tt.commit {
			t.Errorf("Resolve(%s) = %q, %v, want the container of %s", tt.f.repo, addr, err, short(tt.commit))
		}
		if got := MustGet(t, shop.proxy.URL+"/", "web."+shop.env+"."+tt.label+".localhost"); got != tt.commit {
			t.Errorf("web.%s.%s answers %q, want %s", shop.env, tt.label, got, tt.commit)
		}
		cs := repoContainers(t, tt.f)
		if len(cs) != 1 || cs[0].Names[0] != "/"+docker.LiveName(tt.f.repo, tt.f.env, "web") {
			t.Errorf("%s has containers %v, want one named %s", tt.f.repo, names(cs), docker.LiveName(tt.f.repo, tt.f.env, "web"))
		}
	}

	if err := shop.t.Remove(shop.ctx, blog.repo, blog.env); err != nil {
		t.Fatal(err)
	}
	if after := repoContainers(t, shop); !slices.Equal(ids(after), ids(before)) {
		t.Errorf("removing the blog's %s changed the shop's containers %v to %v", blog.env, ids(before), ids(after))
	}
	shop.MustServe(t, v1)
}

// TestAdoptLegacyContainers: a container an earlier version named
// "slipway-<env>-<service>" (its labels were the same) is renamed to its
// repository's live name, found by Current, served by the proxy, and kept
// by a deploy of the release it runs; a second Adopt renames nothing.
func TestAdoptLegacyContainers(t *testing.T) {
	f := MustFixture(t, fastOptions())
	img := dockertest.MustImage(t, f.cli, "web", "sh", "-c", replicaScript)
	v1 := dockertest.RandomCommit()
	f.MustDeploy(t, f.deployment(v1, replicated(img, 2)))
	before := f.MustServeReplicas(t, v1, 2)
	for i, c := range before {
		if err := f.cli.ContainerRename(f.ctx, c.ID, docker.LegacyReplicaName(f.env, "web", i)); err != nil {
			t.Fatal(err)
		}
	}
	if rel, err := f.t.Current(f.ctx, f.repo, f.env); err != nil || len(rel.Services) != 0 {
		t.Fatalf("Current() before adoption = %+v, %v, want nothing live", rel, err)
	}
	n, err := f.t.Adopt(f.ctx)
	if err != nil || n != 2 {
		t.Fatalf("Adopt() = %d, %v, want 2 containers adopted", n, err)
	}
	if after := f.MustServeReplicas(t, v1, 2); !slices.Equal(ids(after), ids(before)) {
		t.Errorf("containers after adoption %v, want the same %v", ids(after), ids(before))
	}
	if n, err := f.t.Adopt(f.ctx); err != nil || n != 0 {
		t.Errorf("second Adopt() = %d, %v, want nothing to do", n, err)
	}

	// A deployer that did not adopt at start adopts in Deploy.
	for i, c := range before {
		if err := f.cli.ContainerRename(f.ctx, c.ID, docker.LegacyReplicaName(f.env, "web", i)); err != nil {
			t.Fatal(err)
		}
	}
	f.MustDeploy(t, f.deployment(v1, replicated(img, 2)))
	if after := f.MustServeReplicas(t, v1, 2); !slices.Equal(ids(after), ids(before)) {
		t.Errorf("deploying the release the legacy containers run replaced them: %v, want %v", ids(after), ids(before))
	}
}

// repoContainers returns the containers of f's repository and environment.
func repoContainers(tb testing.TB, f *fixture) []container.Summary {
	tb.Helper()
	cs, err := f.cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("label", docker.LabelEnv+"="+f.env), filters.Arg("label", docker.LabelRepo+"="+f.repo))})
	if err != nil {
		tb.Fatal(err)
	}
	cs = slices.DeleteFunc(cs, isRetained) // stopped, kept for a rollback
	slices.SortFunc(cs, func(a, b container.Summary) int { return strings.Compare(a.Names[0], b.Names[0]) })
	return cs
}
