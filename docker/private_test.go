package docker_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/image"
	dockerregistry "github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/registry"
	"github.com/slipway-dev/slipway/registry/registrytest"
)

// TestDeployFromPrivateRegistry deploys images from a real Distribution
// registry with htpasswd and TLS. Events name the images by the push
// address (localhost:<port>); the Target pulls them by digest from the
// pull address (127.0.0.1:<port>, the same registry under another name)
// with the credentials for that host. A wrong password, an unknown user or
// no credentials fail the deploy permanently, saying "registry refused
// credentials for 127.0.0.1:<port>", and the previous release keeps
// serving.
//
// What verifies the certificate: dockerd treats 127.0.0.0/8 as an insecure
// registry and skips verification there whatever its certs.d holds; the
// test still writes /etc/docker/certs.d/<host:port>/ca.crt (the set-up a
// non-loopback registry needs, removed at the end). The CA is verified by
// buildkitd and Slipway's own client in the buildkit and registry tests.
func TestDeployFromPrivateRegistry(t *testing.T) {
	p := registrytest.MustPrivate(t)
	_, port, _ := strings.Cut(p.Host, ":")
	pushHost, pullHost := "localhost:"+port, p.Host
	mustTrustInDockerd(t, p, pushHost, pullHost)
	f := MustFixture(t, fastOptions())
	good := registry.NewCredentials()
	good.Add(pullHost, registry.Credential{Username: p.User, Password: p.Password})
	good.Add(pushHost, registry.Credential{Username: p.User, Password: p.Password})
	v1img := mustCopy(t, f.cli, p, f.serve, pushHost)
	other := dockertest.MustImage(t, f.cli, "web", append(serveCmd[:2:2], serveCmd[2]+" # v2")...)
	v2img := mustCopy(t, f.cli, p, other, pushHost)

	v1, v2 := dockertest.RandomCommit(), dockertest.RandomCommit()
	target := mustTarget(t, docker.Registry{Push: pushHost, Pull: pullHost, Credentials: good})
	if err := target.Deploy(f.ctx, f.deployment(v1, web(v1img))); err != nil {
		t.Fatalf("deploy v1 with good credentials: %v", err)
	}
	requireLiveFrom(t, f, pullHost, v1img.Digest)

	tests := []struct {
		name  string
		creds *registry.Credentials
		want  string
	}{
		{"wrong password", credsFor(pullHost, p.User, "wrong-"+p.Password), "registry refused credentials for " + pullHost},
		{"unknown user", credsFor(pullHost, "nobody", p.Password), "registry refused credentials for " + pullHost},
		{"missing credentials", nil, "registry refused credentials for " + pullHost + " (none configured for it)"},
		{"credentials of the push address only", credsFor(pushHost, p.User, p.Password), "(none configured for it)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := mustTarget(t, docker.Registry{Push: pushHost, Pull: pullHost, Credentials: tt.creds})
			err := bad.Deploy(f.ctx, f.deployment(v2, web(v2img)))
			t.Logf("deploy error: %v", err)
			if err == nil || !events.IsPermanent(err) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("deploy v2: %v; want a permanent error saying %q", err, tt.want)
			}
			if !errors.Is(err, registry.ErrRefused) || strings.Contains(err.Error(), p.Password) {
				t.Errorf("deploy v2: %v; want a refusal without the password", err)
			}
			requireServing(t, f, v1)
		})
	}
	if err := target.Deploy(f.ctx, f.deployment(v2, web(v2img))); err != nil {
		t.Fatalf("deploy v2 with good credentials: %v", err)
	}
	requireLiveFrom(t, f, pullHost, v2img.Digest)
	requireServing(t, f, v2)
}

func credsFor(host, user, password string) *registry.Credentials {
	c := registry.NewCredentials()
	c.Add(host, registry.Credential{Username: user, Password: password})
	return c
}

func mustTarget(t *testing.T, r docker.Registry) *docker.Target {
	t.Helper()
	opts := fastOptions()
	opts.Registry = r
	target, err := docker.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { target.Close() })
	return target
}

// mustTrustInDockerd writes the registry's CA into dockerd's certs.d for
// each host name, removed when the test ends.
func mustTrustInDockerd(t *testing.T, p *registrytest.Private, hosts ...string) {
	t.Helper()
	for _, h := range hosts {
		dir := filepath.Join("/etc/docker/certs.d", h)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Skipf("cannot write dockerd's certs.d: %v", err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.WriteFile(filepath.Join(dir, "ca.crt"), p.CAPEM, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// mustCopy pushes img to the private registry as <host>/<same path> with
// dockerd and removes every local copy, so a deploy must pull it.
func mustCopy(t *testing.T, cli *client.Client, p *registrytest.Private, img dockertest.Image, host string) dockertest.Image {
	t.Helper()
	ctx := context.Background()
	path := img.Ref[strings.Index(img.Ref, "/")+1:]
	ref := host + "/" + path
	if err := cli.ImageTag(ctx, img.Ref, ref); err != nil {
		t.Fatal(err)
	}
	auth, err := dockerregistry.EncodeAuthConfig(dockerregistry.AuthConfig{Username: p.User, Password: p.Password, ServerAddress: host})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := cli.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: auth})
	if err != nil {
		t.Fatal(err)
	}
	dgst := dockertest.PushedDigest(t, rc)
	inspect, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.ImageRemove(ctx, inspect.ID, image.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	return dockertest.Image{Ref: ref, Digest: dgst}
}

// requireLiveFrom checks that the live web container runs the image pulled
// from host by digest.
func requireLiveFrom(t *testing.T, f *fixture, host, digest string) {
	t.Helper()
	c := f.MustInspectLive(t, "web")
	if want := "@" + digest; !strings.HasPrefix(c.Config.Image, host+"/") || !strings.HasSuffix(c.Config.Image, want) {
		t.Fatalf("live container runs %s; want %s/...%s", c.Config.Image, host, want)
	}
}

// requireServing checks, through the proxy, that web answers with commit.
func requireServing(t *testing.T, f *fixture, commit string) {
	t.Helper()
	code, body, err := get(f.proxy.URL+"/", "web."+f.env+".shop.localhost")
	if err != nil || code != 200 || strings.TrimSpace(body) != commit {
		t.Fatalf("web answers %d %q, %v; want %s", code, body, err, commit)
	}
}
