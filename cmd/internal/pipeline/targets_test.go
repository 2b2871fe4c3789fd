package pipeline

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/workflows/target/targettest"
)

// TestTargetsConfig: the targets of the file and the flags are made by the
// factory of their kind; a bad line, a kind this build lacks, an unknown
// kind or a target on the local daemon fails with where it was declared.
func TestTargetsConfig(t *testing.T) {
	tests := []struct {
		name         string
		file         string
		lines, allow []string
		want         []string // target names, local first
		wantErr      []string
	}{
		{"nothing: local only", "", nil, nil, []string{"local"}, nil},
		{"a second daemon", "target other docker unix:///run/other/docker.sock\nallow other acme/shop\n", nil, []string{"local acme/*"}, []string{"local", "other"}, nil},
		{"flag target", "", []string{"other docker unix:///run/other/docker.sock"}, nil, []string{"local", "other"}, nil},
		{"bad lines, with numbers", "target ok docker unix:///a.sock\n\nallow\ntarget Bad docker\n", nil, nil, nil, []string{"targets.conf:3:", "targets.conf:4:"}},
		{"bad flag", "", []string{"lonely"}, []string{"x"}, nil, []string{`-target "lonely"`, "-target-allow"}},
		{"kubernetes without its kubeconfig", "target cluster kubernetes kubeconfig=/nonexistent/kubeconfig namespace=shop\n", nil, nil, nil, []string{"targets.conf:1: target cluster: kubernetes target: read kubeconfig /nonexistent/kubeconfig"}},
		{"swarm", "", []string{"swarm swarm ssh://deploy@manager.example.com key=/etc/slipway/id_ed25519 known_hosts=/etc/slipway/known_hosts"}, nil, []string{"local", "swarm"}, nil},
		{"swarm without a key", "", []string{"swarm swarm ssh://deploy@manager.example.com"}, nil, nil, []string{"-target: target swarm: swarm: key= and known_hosts= are required"}},
		{"ssh hosts", "target prod-hosts docker ssh://deploy@app1.example.com,ssh://deploy@app2.example.com key=/etc/slipway/id_ed25519 known_hosts=/etc/slipway/known_hosts batch=2\n", nil, nil, []string{"local", "prod-hosts"}, nil},
		{"ssh hosts without a key", "target prod-hosts docker ssh://deploy@app1.example.com,ssh://deploy@app2.example.com\n", nil, nil, nil, []string{"targets.conf:1: target prod-hosts: docker over ssh: key= and known_hosts= are required"}},
		{"ssh host with a password", "target prod-hosts docker ssh://deploy:hunter2@app1.example.com key=/k known_hosts=/kh\n", nil, nil, nil, []string{"a password has no place in the URL"}},
		{"ssh and unix hosts mixed", "target prod-hosts docker ssh://deploy@app1.example.com,unix:///a.sock key=/k known_hosts=/kh\n", nil, nil, nil, []string{"scheme must be ssh"}},
		{"unknown kind", "target n nomad http://nomad:4646\n", nil, nil, nil, []string{`targets.conf:1: target n: unknown target kind "nomad" (kinds: docker, kubernetes, swarm)`}},
		{"docker options", "target o docker unix:///a.sock batch=2\n", nil, nil, nil, []string{"docker takes no options (got batch)"}},
		{"the local daemon twice", "target again docker " + localDockerHost() + "\n", nil, nil, nil, []string{"is the daemon of target local"}},
		{"allow of nothing", "", nil, []string{"nowhere acme/shop"}, nil, []string{"allow names target nowhere"}},
	}
	local, err := docker.New(docker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Targets = TargetsConfig{Lines: tt.lines, Allows: tt.allow}
			if tt.file != "" {
				cfg.Targets.File = filepath.Join(t.TempDir(), "targets.conf")
				if err := os.WriteFile(cfg.Targets.File, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			p, err := NewPlacement(context.Background(), &cfg, local, nil)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.Join(p.Names(), ","); got != strings.Join(tt.want, ",") {
					t.Errorf("targets %s, want %v", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("placement %v, want an error", p.Names())
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), strings.ReplaceAll(w, "targets.conf", cfg.Targets.File)) {
					t.Errorf("error %q does not hold %q", err, w)
				}
			}
			if verr := cfg.Validate(); tt.file != "" && strings.Contains(tt.name, "bad lines") && verr == nil {
				t.Error("Validate accepted a targets file with bad lines")
			}
		})
	}
}

// TestTargetsFlags: the deployer's flags fill the placement configuration.
func TestTargetsFlags(t *testing.T) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("deployer", flag.ContinueOnError)
	cfg.BindDeployer(fs)
	err := fs.Parse([]string{"-targets-file", "/etc/slipway/targets", "-target", "a docker unix:///a.sock", "-target", "b docker unix:///b.sock", "-target-allow", "a acme/shop production"})
	if err != nil {
		t.Fatal(err)
	}
	want := TargetsConfig{File: "/etc/slipway/targets", Lines: []string{"a docker unix:///a.sock", "b docker unix:///b.sock"}, Allows: []string{"a acme/shop production"}}
	if !reflect.DeepEqual(cfg.Targets, want) {
		t.Errorf("targets config %+v, want %+v", cfg.Targets, want)
	}
}

// TestDeployerPlacement wires the deploy workflow the way the deployer does,
// on an embedded JetStream and the real Docker daemon: a request for the
// default target runs on the daemon and is recorded with it; one for a
// target the operator did not configure, or that the repository may not
// use, fails for good naming the target, with nothing started.
func TestDeployerPlacement(t *testing.T) {
	cli := dockertest.MustDocker(t)
	serve := dockertest.MustImage(t, cli, "serve", targettest.ServeCmd...)
	srv := natsjs.MustServer(t)
	cfg := DefaultConfig()
	cfg.MirrorDir = t.TempDir()
	cfg.HealthTimeout = 10 * time.Second
	cfg.Targets.Allows = []string{"local acme/shop"}
	ctx := context.Background()
	c, err := Dial(ctx, srv.ClientURL(), "placement-test", cfg.Topology)
	if err != nil {
		t.Fatal(err)
	}
	defer c.NC.Close()
	local, err := NewTarget(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	withTasks, err := WithTasks(ctx, &cfg, c)
	if err != nil {
		t.Fatal(err)
	}
	targets, err := NewPlacement(ctx, &cfg, local, withTasks)
	if err != nil {
		t.Fatal(err)
	}
	defer targets.Close()
	h, err := DeployHandler(ctx, &cfg, c, withTasks(local))
	if err != nil {
		t.Fatal(err)
	}
	h.Targets = targets
	env := dockertest.RandomName("t")
	for _, repo := range []string{"acme/shop", "acme/blog"} {
		t.Cleanup(func() { _ = local.Remove(context.Background(), repo, env) })
	}
	img := events.Image{Service: events.ServiceSpec{Name: "web", Port: targettest.Port, HealthPath: "/healthz"}, Ref: serve.Ref, Digest: serve.Digest}
	request := func(repo, name string) *events.DeployRequested {
		return (&events.DeployRequested{Env: env, Repo: events.Repo{FullName: repo}, Commit: dockertest.RandomCommit(), Images: []events.Image{img}, Target: name}).
			Ask(events.KindAuto, "test", events.ActorSlipway, "")
	}

	ok := request("acme/shop", "")
	if err := h.HandleDeploy(ctx, ok); err != nil {
		t.Fatal(err)
	}
	if rel, err := local.Current(ctx, "acme/shop", env); err != nil || rel.Commit() != ok.Commit {
		t.Errorf("the daemon runs %+v (%v), want %s", rel, err, ok.Commit[:12])
	}
	envs, err := c.Envs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st, found, err := envs.Get(ctx, "acme/shop", env); err != nil || !found || st.Commit != ok.Commit || events.TargetName(st.Target) != events.LocalTarget {
		t.Errorf("record %+v, %v, %v; want %s on local", st, found, err, ok.Commit[:12])
	}

	for _, tt := range []struct {
		req  *events.DeployRequested
		want string
	}{
		{request("acme/shop", "prod-hosts"), `target "prod-hosts" is not configured on this deployer (targets: local)`},
		{request("acme/blog", ""), `target "local" may not run environment ` + env + ` of acme/blog`},
	} {
		if err := h.HandleDeploy(ctx, tt.req); !events.IsPermanent(err) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("deploy of %s to %q: %v, want permanent %q", tt.req.Repo.FullName, tt.req.Target, err, tt.want)
		}
		failed, err := natsjs.Events(ctx, c.JS, events.EnvSubject(events.SubjectDeployFailed, tt.req.Repo.FullName, env))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range failed {
			ev, err := e.Decode()
			if r, isResult := events.ResultOf(ev); err == nil && isResult && r.Commit == tt.req.Commit {
				found = strings.Contains(r.Reason, tt.want) && r.Target == tt.req.Target
			}
		}
		if !found {
			t.Errorf("no deploy-failed event of %s naming %q", tt.req.Commit[:12], tt.want)
		}
	}
	if rel, err := local.Current(ctx, "acme/shop", env); err != nil || rel.Commit() != ok.Commit {
		t.Errorf("after the refused deploys the daemon runs %+v (%v), want %s still", rel, err, ok.Commit[:12])
	}
	if n := len(dockertest.Containers(t, env)); n != 1 {
		t.Errorf("%d containers of %s, want the one of acme/shop: nothing started for the refused deploys", n, env)
	}
}
