package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/slipway-dev/slipway/buildkit/buildkittest"
	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/gitserver"
	"github.com/slipway-dev/slipway/registry/registrytest"
)

// privateRig is a private registry (Distribution with htpasswd and TLS
// under a CA made by the test) seen under two names, a buildkitd of the
// test's own trusting its CA, and dockerd's certs.d entry for it.
// Builders push to localhost:<port> (-registry); the deploy target pulls
// from 127.0.0.1:<port> (-registry-pull).
type privateRig struct {
	p                  *registrytest.Private
	buildkit           string
	pushHost, pullHost string
}

func mustPrivateRig(tb testing.TB) *privateRig {
	tb.Helper()
	p := registrytest.MustPrivate(tb)
	_, port, _ := strings.Cut(p.Host, ":")
	r := &privateRig{p: p, pushHost: "localhost:" + port, pullHost: p.Host}
	var extra strings.Builder
	for _, h := range []string{r.pushHost, r.pullHost} {
		fmt.Fprintf(&extra, "[registry.%q]\n  http = false\n  ca = [%q]\n", h, p.CAFile)
		// dockerd skips verification on 127.0.0.0/8 (an insecure registry
		// by default); the file is what a real deploy host needs.
		dir := filepath.Join("/etc/docker/certs.d", h)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.WriteFile(filepath.Join(dir, "ca.crt"), p.CAPEM, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	r.buildkit = buildkittest.MustOwnBuildkitd(tb, extra.String()).Addr
	return r
}

// configure points a Slipway at the rig, authenticating with password read
// from a file (as -registry-auth host=user:file does).
func (r *privateRig) configure(tb testing.TB, password string) func(*pipeline.Config) {
	tb.Helper()
	file := filepath.Join(tb.TempDir(), "registry-password")
	if err := os.WriteFile(file, []byte(password+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	return func(c *pipeline.Config) {
		c.Registry, c.BuildkitHost = r.pushHost, r.buildkit
		c.RegistryAuth = pipeline.RegistryAuth{Pull: r.pullHost, CAFile: r.p.CAFile}
		for _, h := range []string{r.pushHost, r.pullHost} {
			if err := c.RegistryAuth.Hosts.Set(h + "=" + r.p.User + ":" + file); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// TestEndToEndPrivateRegistry carries commits of the sample monorepo to
// staging through a private TLS registry with htpasswd: builds push to the
// push address with the credentials of -registry-auth (buildkitd verifying
// the CA), the deployer pulls by digest from the pull address, and
// `slipway gc` deletes the older commit's images through the registry API
// with the same credentials. With a wrong password each service's build
// fails once, permanently, with a build-failed event saying "registry
// refused credentials for <host>", and nothing is redelivered. The
// password is in no log line and no event.
func TestEndToEndPrivateRegistry(t *testing.T) {
	requireComponents(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	r := mustPrivateRig(t)

	t.Run("good credentials", func(t *testing.T) {
		logs := &syncBuffer{}
		e := startSlipwayWith(t, ctx, r.configure(t, r.p.Password), logs)
		s := mustSample(t, ctx)
		p1 := e.push(t, ctx, s, "Add web and api", "")
		e.waitServing(t, ctx, p1.After)
		change(t, s, "warm", "second") // both images change
		p2 := e.push(t, ctx, s, "Change both", "")
		e.waitServing(t, ctx, p2.After)
		e.waitIdle(t, ctx)
		e.requireContainers(t, ctx, p2.After)
		requirePulledFrom(t, e, r.pullHost)

		var out strings.Builder
		o := gcOptions{Registry: r.pushHost, Auth: e.up.Config.RegistryAuth, Keep: 1}
		deleted, err := gc(ctx, e.up.Conn(), o, &out)
		if err != nil || len(deleted) != 2 {
			t.Fatalf("gc deleted %v, %v; want the two images of %s:\n%s", deleted, err, p1.After[:12], out.String())
		}
		o.Auth = pipeline.RegistryAuth{CAFile: r.p.CAFile}
		if _, err := gc(ctx, e.up.Conn(), o, io.Discard); err == nil || !strings.Contains(err.Error(), "registry refused credentials for "+r.pushHost) {
			t.Errorf("gc without credentials: %v, want refused", err)
		}
		requireNoSecret(t, ctx, e, logs, r.p.Password)
	})

	t.Run("wrong password", func(t *testing.T) {
		logs := &syncBuffer{}
		wrong := "wrong-" + r.p.Password
		e := startSlipwayWith(t, ctx, r.configure(t, wrong), logs)
		s := mustSample(t, ctx)
		p := e.push(t, ctx, s, "Add web and api", "")
		e.waitEvent(t, ctx, events.SubjectCommitFailed, p.After)
		e.waitIdle(t, ctx)
		failed := buildFailures(t, ctx, e, p.After)
		if len(failed) != 2 {
			t.Fatalf("build-failed events %+v; want one per service", failed)
		}
		for _, f := range failed {
			if !strings.Contains(f.Reason, "registry refused credentials for "+r.pushHost) {
				t.Errorf("build of %s failed with %q; want it to say the registry refused the credentials", f.Service, f.Reason)
			}
		}
		requireNoSecret(t, ctx, e, logs, wrong)
		requireNoSecret(t, ctx, e, logs, r.p.Password)
	})
}

func mustSample(t testing.TB, ctx context.Context, opts ...gitserver.Option) *sample.Sample {
	t.Helper()
	s, err := sample.New(ctx, t.TempDir(), "e2e-secret", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// requirePulledFrom checks that staging's containers run images named by
// the pull address, by digest.
func requirePulledFrom(t *testing.T, e *env, host string) {
	t.Helper()
	list, err := dockertest.MustDocker(t).ContainerList(context.Background(), container.ListOptions{
		Filters: filters.NewArgs(filters.Arg("label", "slipway.env="+e.env)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("%d containers on %s, want 2", len(list), e.env)
	}
	for _, c := range list {
		if !strings.HasPrefix(c.Image, host+"/") || !strings.Contains(c.Image, "@sha256:") {
			t.Errorf("%s runs %s; want an image pulled by digest from %s", c.Names[0], c.Image, host)
		}
	}
}

// buildFailures returns the build-failed events of commit.
func buildFailures(t *testing.T, ctx context.Context, e *env, commit string) []events.BuildFailed {
	t.Helper()
	envs, err := natsjs.Events(ctx, e.up.Conn().JS, events.SubjectBuildFailed+".>", events.SubjectBuildFailed)
	if err != nil {
		t.Fatal(err)
	}
	var out []events.BuildFailed
	for _, env := range envs {
		ev, err := env.Decode()
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := ev.(*events.BuildFailed); ok && f.Commit == commit {
			out = append(out, *f)
		}
	}
	return out
}

// requireNoSecret scans the log and every stored event for secret.
func requireNoSecret(t *testing.T, ctx context.Context, e *env, logs *syncBuffer, secret string) {
	t.Helper()
	if strings.Contains(logs.String(), secret) {
		t.Error("the registry password is in the log")
	}
	envs, err := natsjs.Events(ctx, e.up.Conn().JS, events.SubjectRoot+".>")
	if err != nil {
		t.Fatal(err)
	}
	if len(envs) == 0 {
		t.Fatal("no events to scan")
	}
	for _, env := range envs {
		if bytes.Contains(env.Data, []byte(secret)) || strings.Contains(env.Subject, secret) {
			t.Errorf("the registry password is in event %s", env.ID)
		}
	}
}
