package hostproxy_test

import (
	"context"
	"testing"

	"github.com/docker/docker/api/types/container"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/hostproxy"
	"github.com/slipway-dev/slipway/proxy"
)

// TestTableReadsHostNamesFromLabels starts containers on the real daemon
// with the labels a deploy gives them and checks the table routes a host
// one running environment declares, and not a host two declare, nor one of
// a stopped container.
func TestTableReadsHostNamesFromLabels(t *testing.T) {
	cli := dockertest.MustDocker(t)
	img := dockertest.MustImage(t, cli, "sleep", "sleep", "600")
	suffix := dockertest.RandomName("h")
	run := func(env, hostJSON string, start bool) {
		t.Helper()
		c, err := cli.ContainerCreate(context.Background(), &container.Config{Image: img.Ref, Labels: map[string]string{
			docker.LabelEnv: env, docker.LabelRepo: "acme/shop", docker.LabelService: "web",
			docker.LabelSpec: `{"name":"web","port":8080,"hosts":[` + hostJSON + `]}`,
		}}, nil, nil, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true})
		})
		if start {
			if err := cli.ContainerStart(context.Background(), c.ID, container.StartOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	solo, dup, stopped := "solo."+suffix+".test", "dup."+suffix+".test", "stopped."+suffix+".test"
	run("production", `"`+solo+`","`+dup+`"`, true)
	run("staging", `"`+dup+`"`, true)
	run("preview", `"`+stopped+`"`, false)

	table := hostproxy.NewTable(cli)
	if err := table.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host string
		want proxy.Route
		ok   bool
	}{
		{solo, proxy.Route{Repo: "acme/shop", Env: "production", Service: "web"}, true},
		{dup, proxy.Route{}, false},
		{stopped, proxy.Route{}, false},
		{"unknown." + suffix + ".test", proxy.Route{}, false},
	}
	for _, tc := range tests {
		got, ok := table.Lookup(tc.host)
		if ok != tc.ok || got != tc.want {
			t.Errorf("Lookup(%s) = %+v, %v; want %+v, %v", tc.host, got, ok, tc.want, tc.ok)
		}
	}
}
