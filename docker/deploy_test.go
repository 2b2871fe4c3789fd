package docker_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

func TestDeployWithoutDowntime(t *testing.T) {
	f := MustFixture(t, docker.Options{DrainDelay: 1500 * time.Millisecond, StopTimeout: 2 * time.Second})
	v1, v2 := dockertest.RandomCommit(), dockertest.RandomCommit()
	f.MustDeploy(t, f.deployment(v1, web(f.serve)))

	var (
		mu     sync.Mutex
		seen   = map[string]int{}
		failed []string
	)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		deadline := time.Now().Add(30 * time.Second)
		for n := 0; n < 20000 && time.Now().Before(deadline); n++ {
			select {
			case <-stop:
				return
			default:
			}
			code, body, err := get(f.proxy.URL+"/", "web."+f.env+".shop.localhost")
			mu.Lock()
			if err != nil || code != http.StatusOK {
				failed = append(failed, body+" "+errString(err))
			} else {
				seen[body]++
			}
			mu.Unlock()
		}
	}()
	f.MustDeploy(t, f.deployment(v2, web(f.serve)))
	time.Sleep(1500 * time.Millisecond) // past the proxy's TTL
	close(stop)
	<-done

	t.Logf("answers: v1 %d, v2 %d, failed %d", seen[v1], seen[v2], len(failed))
	if len(failed) > 0 {
		t.Errorf("%d requests failed during the deploy, first: %q", len(failed), failed[0])
	}
	if seen[v1] == 0 || seen[v2] == 0 || len(seen) != 2 {
		t.Errorf("answers %v, want both commits and nothing else", seen)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestDeployServicesComeAndGo(t *testing.T) {
	f := MustFixture(t, fastOptions())
	v1, v2 := dockertest.RandomCommit(), dockertest.RandomCommit()
	api := named("api", web(f.serve))
	api.Service.HealthPath = "" // "/" is healthy too

	f.MustDeploy(t, f.deployment(v1, web(f.serve), api))
	rel, err := f.t.Current(f.ctx, f.repo, f.env)
	if err != nil {
		t.Fatal(err)
	}
	if len(rel.Services) != 2 || rel.Services[0].Name != "api" || rel.Services[1].Name != "web" || rel.Commit() != v1 {
		t.Fatalf("Current() = %+v, want api and web at v1", rel)
	}
	for _, s := range rel.Services {
		addr, err := f.replica0(s.Name)
		if err != nil || addr != s.Addr {
			t.Errorf("replica 0 of %s at %q, %v; Current says %q", s.Name, addr, err, s.Addr)
		}
		if got := MustGet(t, f.proxy.URL+"/", s.Name+"."+f.env+".shop.localhost"); got != v1 {
			t.Errorf("%s via proxy = %q, want v1", s.Name, got)
		}
	}

	f.MustDeploy(t, f.deployment(v2, web(f.serve)))
	f.MustServe(t, v2)
	if _, err := f.replica0("api"); !errors.Is(err, docker.ErrNotLive) {
		t.Errorf("replica 0 of api after it was dropped: %v, want ErrNotLive", err)
	}
}

func TestDeployClearsACrashedDeploy(t *testing.T) {
	f := MustFixture(t, fastOptions())
	v1, v2 := dockertest.RandomCommit(), dockertest.RandomCommit()
	f.MustDeploy(t, f.deployment(v1, web(f.serve)))
	live := f.MustServe(t, v1)

	// A crash between the two renames of a switch: the live container is
	// retired, a candidate is left beside it, nothing has the live name.
	ctx := context.Background()
	retired := docker.LiveName(f.repo, f.env, "web") + ".retired-" + live.ID[:12]
	if err := f.cli.ContainerRename(ctx, live.ID, retired); err != nil {
		t.Fatal(err)
	}
	leftover, err := f.cli.ContainerCreate(ctx, &container.Config{
		Image: f.serve.Ref, Labels: map[string]string{docker.LabelRepo: f.repo, docker.LabelEnv: f.env, docker.LabelService: "web"},
	}, nil, nil, nil, docker.LiveName(f.repo, f.env, "web")+"."+v2[:12])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.replica0("web"); !errors.Is(err, docker.ErrNotLive) {
		t.Fatalf("replica 0 mid-switch: %v, want ErrNotLive", err)
	}

	// The next deploy fails its health check; the retired container must
	// nevertheless be serving again and the leftover gone.
	bad := dockertest.MustImage(t, f.cli, "web", crashCmd...)
	if err := f.deploy(t, f.deployment(v2, web(bad))); !events.IsPermanent(err) {
		t.Fatalf("deploy of a crashing image: %v, want permanent", err)
	}
	if c := f.MustServe(t, v1); c.ID != live.ID {
		t.Errorf("live container %s, want the restored %s", c.ID[:12], live.ID[:12])
	}
	if _, err := f.cli.ContainerInspect(ctx, leftover.ID); !isNotFound(err) {
		t.Errorf("leftover candidate still exists: %v", err)
	}
}

func TestDeployImageNotInRegistry(t *testing.T) {
	f := MustFixture(t, fastOptions())
	missing := web(f.serve)
	missing.Digest = "sha256:" + strings.Repeat("0", 64)
	err := f.deploy(t, f.deployment(dockertest.RandomCommit(), missing))
	if !events.IsPermanent(err) || !strings.Contains(err.Error(), "not found") {
		t.Errorf("err = %v, want permanent not found", err)
	}
	if cs := f.containers(t); len(cs) != 0 {
		t.Errorf("containers left: %v", names(cs))
	}
}

func TestDeployRegistryUnreachable(t *testing.T) {
	f := MustFixture(t, fastOptions())
	img := web(f.serve)
	img.Ref = "127.0.0.1:1/slipway-test/web:x" // nothing listens on port 1
	err := f.deploy(t, f.deployment(dockertest.RandomCommit(), img))
	var r *events.RetryableError
	if !errors.As(err, &r) || events.IsPermanent(err) {
		t.Errorf("err = %v, want retryable", err)
	}
}

func TestDaemonUnreachable(t *testing.T) {
	target, err := docker.New(docker.Options{Host: "unix:///nonexistent/docker.sock"})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	ctx := context.Background()
	img := events.Image{Service: events.ServiceSpec{Name: "web", Port: 8080}, Ref: "localhost:5000/a/web:1", Digest: "sha256:" + strings.Repeat("a", 64)}
	calls := map[string]error{
		"Deploy": target.Deploy(ctx, deploy.Deployment{Env: "staging", Repo: "acme/shop", Commit: "abc", Images: []events.Image{img}}),
		"Remove": target.Remove(ctx, "acme/shop", "staging"),
	}
	_, calls["Current"] = target.Current(ctx, "acme/shop", "staging")
	for name, err := range calls {
		var r *events.RetryableError
		if !errors.As(err, &r) || r.After != 5*time.Second {
			t.Errorf("%s: %v, want retryable after 5s", name, err)
		}
	}
}

func TestDeployRejectsBadDeployments(t *testing.T) {
	target, err := docker.New(docker.Options{Host: "unix:///nonexistent/docker.sock"})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	good := events.Image{Service: events.ServiceSpec{Name: "web", Port: 8080}, Ref: "localhost:5000/a/web:1", Digest: "sha256:" + strings.Repeat("a", 64)}
	with := func(change func(*events.Image)) []events.Image {
		img := good
		change(&img)
		return []events.Image{img}
	}
	tests := []struct {
		name string
		d    deploy.Deployment
	}{
		{"no repository", deploy.Deployment{Env: "prod", Commit: "c", Images: []events.Image{good}}},
		{"env with a dot", deploy.Deployment{Env: "a.b", Repo: "acme/shop", Commit: "c", Images: []events.Image{good}}},
		{"env upper case", deploy.Deployment{Env: "Prod", Repo: "acme/shop", Commit: "c", Images: []events.Image{good}}},
		{"no commit", deploy.Deployment{Env: "prod", Repo: "acme/shop", Images: []events.Image{good}}},
		{"no images", deploy.Deployment{Env: "prod", Repo: "acme/shop", Commit: "c"}},
		{"service name", deploy.Deployment{Env: "prod", Repo: "acme/shop", Commit: "c", Images: with(func(i *events.Image) { i.Service.Name = "web_1" })}},
		{"no port", deploy.Deployment{Env: "prod", Repo: "acme/shop", Commit: "c", Images: with(func(i *events.Image) { i.Service.Port = 0 })}},
		{"no digest", deploy.Deployment{Env: "prod", Repo: "acme/shop", Commit: "c", Images: with(func(i *events.Image) { i.Digest = "" })}},
		{"bad digest", deploy.Deployment{Env: "prod", Repo: "acme/shop", Commit: "c", Images: with(func(i *events.Image) { i.Digest = "sha256:xyz" })}},
		{"twice", deploy.Deployment{Env: "prod", Repo: "acme/shop", Commit: "c", Images: []events.Image{good, good}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := target.Deploy(context.Background(), tt.d); !events.IsPermanent(err) {
				t.Errorf("Deploy() = %v, want permanent", err)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*docker.Options)
		wantErr bool
	}{
		{"defaults", func(*docker.Options) {}, false},
		{"no health timeout", func(o *docker.Options) { o.HealthTimeout = 0 }, true},
		{"interval above timeout", func(o *docker.Options) { o.HealthInterval = time.Minute }, true},
		{"negative drain", func(o *docker.Options) { o.DrainDelay = -time.Second }, true},
		{"sub-second stop", func(o *docker.Options) { o.StopTimeout = time.Millisecond }, true},
		{"negative log lines", func(o *docker.Options) { o.LogLines = -1 }, true},
		{"memory below 6MiB", func(o *docker.Options) { o.Limits.Defaults.Memory = 1 << 20 }, true},
		{"memory above maximum", func(o *docker.Options) { o.Limits.Max.Memory = o.Limits.Defaults.Memory - 1 }, true},
		{"no pids", func(o *docker.Options) { o.Limits.Defaults.Pids = 0 }, true},
		{"pids above maximum", func(o *docker.Options) { o.Limits.Max.Pids = 10 }, true},
		{"cpus above maximum", func(o *docker.Options) { o.Limits.Defaults.CPUs, o.Limits.Max.CPUs = 2, 1 }, true},
		{"negative cpus", func(o *docker.Options) { o.Limits.Defaults.CPUs = -1 }, true},
		{"unknown capability", func(o *docker.Options) { o.Limits.Capabilities = []string{"NET_BIND_SERVICE", "ROOT"} }, true},
		{"capability with prefix", func(o *docker.Options) { o.Limits.Capabilities = []string{"CAP_NET_BIND_SERVICE"} }, false},
		{"no capabilities", func(o *docker.Options) { o.Limits.Capabilities = []string{} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := docker.DefaultOptions()
			tt.change(&o)
			if err := o.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

func TestDeployInterrupted(t *testing.T) {
	f := MustFixture(t, docker.Options{HealthTimeout: time.Minute})
	slow := dockertest.MustImage(t, f.cli, "web", noHealthCmd...)
	ctx, cancel := context.WithTimeout(f.ctx, 3*time.Second)
	defer cancel()
	err := f.t.Deploy(ctx, f.deployment(dockertest.RandomCommit(), web(slow)))
	if !errors.Is(err, context.DeadlineExceeded) || events.IsPermanent(err) {
		t.Errorf("err = %v, want the context's error, not permanent", err)
	}
	if cs := f.containers(t); len(cs) != 0 {
		t.Errorf("candidates left after an interrupted deploy: %v", names(cs))
	}
}
