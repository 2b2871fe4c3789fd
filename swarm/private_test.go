package swarm_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	dockerregistry "github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/registry"
	"github.com/slipway-dev/slipway/registry/registrytest"
	swarmtarget "github.com/slipway-dev/slipway/swarm"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target/targettest"
)

// TestDeployFromPrivateRegistry deploys to a two-node swarm from a real
// Distribution registry with htpasswd and TLS (registrytest), which the
// nodes reach at a forwarder on the test hosts' registry address
// (testhost.Hosts.MustForward, the pull address; events name the images by
// the registry's loopback address). With the deployer's credentials for
// the pull address both nodes pull (the worker gets them from the manager,
// with the service) and the release serves; without them, with those of the
// loopback address only, or with a wrong password, the deploy fails for
// good saying which host the node could not pull from and whether
// credentials were configured for it, and the previous commit keeps
// serving. A good deploy then replaces it. The password is in no log line,
// no error and no service as the manager shows it.
//
// What verifies the certificate: the hosts' dockerd take every port of the
// forwarder's address for an insecure registry and skip verification
// there (the registry's certificate names 127.0.0.1 only); the CA is
// verified by buildkitd and Slipway's own client in the buildkit and
// registry tests.
func TestDeployFromPrivateRegistry(t *testing.T) {
	f := mustFixture(t, 2)
	p := registrytest.MustPrivate(t)
	pullHost := f.c.hosts.MustForward(t, p.Host)
	cli := dockertest.MustDocker(t)
	v1img := mustCopy(t, cli, p, f.serve)
	v2img := mustCopy(t, cli, p, dockertest.MustImage(t, cli, "graceful", gracefulCmd...))

	logs := &lockedBuffer{}
	log := zerolog.New(zerolog.MultiLevelWriter(logs, zerolog.ConsoleWriter{Out: zerolog.TestWriter{T: t}, NoColor: true}))
	f.ctx = log.WithContext(context.Background())
	newTarget := func(creds *registry.Credentials) *swarmtarget.Target {
		opts := f.c.options()
		opts.Registry, opts.PullRegistry = p.Host, pullHost
		// Long enough for a rejected task to reach the manager on a loaded
		// machine.
		opts.Docker.HealthTimeout = 10 * time.Second
		opts.Docker.Registry.Credentials = creds
		tg, err := swarmtarget.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tg.Close() })
		return tg
	}
	good := credsFor(pullHost, p.User, p.Password)
	f.tg = newTarget(good)

	v1 := targettest.RandomCommit()
	if err := f.tg.Deploy(f.ctx, f.deployment(v1, v1img, 2)); err != nil {
		t.Fatalf("deploy v1 with good credentials: %v", err)
	}
	if nodes := distinctNodes(f.mustWeb(t)); len(nodes) != 2 {
		t.Fatalf("web's 2 replicas run on %v, want one on each node (each pulled)", nodes)
	}
	requireServes(t, f, v1)
	requireImageFrom(t, f, pullHost, v1img.Digest)

	for _, tt := range []struct {
		name  string
		creds *registry.Credentials
		want  string
	}{
		{"missing credentials", nil, "and no registry credentials are configured for it"},
		{"credentials of the loopback address only", credsFor(p.Host, p.User, p.Password), "and no registry credentials are configured for it"},
		{"wrong password", credsFor(pullHost, p.User, "wrong-"+p.Password), "with the registry credentials configured for it"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := newTarget(tt.creds).Deploy(f.ctx, f.deployment(targettest.RandomCommit(), v2img, 2))
			t.Logf("deploy error: %v", err)
			var u *deploy.UnhealthyError
			if !events.IsPermanent(err) || !errors.As(err, &u) {
				t.Fatalf("deploy v2: %v; want a permanent *deploy.UnhealthyError", err)
			}
			if want := "task rejected"; !strings.Contains(u.Reason, want) ||
				!strings.Contains(u.Reason, "its node could not pull it from "+pullHost) || !strings.Contains(u.Reason, tt.want) {
				t.Fatalf("deploy v2 failed with %q; want %q, the pull address %s and %q", u.Reason, want, pullHost, tt.want)
			}
			if strings.Contains(err.Error(), p.Password) {
				t.Errorf("deploy error shows the password: %v", err)
			}
			requireServes(t, f, v1)
		})
	}

	v2 := targettest.RandomCommit()
	if err := f.tg.Deploy(f.ctx, f.deployment(v2, v2img, 2)); err != nil {
		t.Fatalf("deploy v2 with good credentials: %v", err)
	}
	requireServes(t, f, v2)
	requireImageFrom(t, f, pullHost, v2img.Digest)

	auth, sent, err := docker.Registry{Credentials: good}.Auth(pullHost)
	if err != nil || !sent {
		t.Fatalf("Auth(%s) = %v, %v; want the credentials", pullHost, sent, err)
	}
	_, raw, err := f.c.hosts.List[0].Docker(t).ServiceInspectWithRaw(f.ctx, f.mustLive(t).svc.ID, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for what, out := range map[string]string{"the logs": logs.String(), "the live service as the manager shows it": string(raw)} {
		if strings.Contains(out, p.Password) || strings.Contains(out, auth) {
			t.Errorf("%s hold the password or the encoded credentials", what)
		}
	}
}

// requireServes checks that web's first replica answers with commit.
func requireServes(t *testing.T, f *fixture, commit string) {
	t.Helper()
	if body, err := f.get(t); err != nil || body != commit {
		t.Fatalf("web answers %q, %v; want %s", body, err, commit)
	}
}

// requireImageFrom checks that the live web service runs the image of
// digest named by the pull address.
func requireImageFrom(t *testing.T, f *fixture, host, digest string) {
	t.Helper()
	img := f.mustLive(t).svc.Spec.TaskTemplate.ContainerSpec.Image
	if !strings.HasPrefix(img, host+"/") || !strings.HasSuffix(img, "@"+digest) {
		t.Fatalf("live web runs %s; want %s/...@%s", img, host, digest)
	}
}

func credsFor(host, user, password string) *registry.Credentials {
	c := registry.NewCredentials()
	c.Add(host, registry.Credential{Username: user, Password: password})
	return c
}

// mustCopy pushes img to the private registry as <p.Host>/<same path> with
// the machine's dockerd (which skips verification on loopback) and returns
// it there; the nodes have never seen it.
func mustCopy(t *testing.T, cli *client.Client, p *registrytest.Private, img dockertest.Image) dockertest.Image {
	t.Helper()
	ctx := context.Background()
	ref := p.Host + "/" + img.Ref[strings.Index(img.Ref, "/")+1:]
	if err := cli.ImageTag(ctx, img.Ref, ref); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = cli.ImageRemove(context.Background(), ref, image.RemoveOptions{}) })
	auth, err := dockerregistry.EncodeAuthConfig(dockerregistry.AuthConfig{Username: p.User, Password: p.Password, ServerAddress: p.Host})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := cli.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: auth})
	if err != nil {
		t.Fatal(err)
	}
	dgst := dockertest.PushedDigest(t, rc)
	return dockertest.Image{Ref: ref, Digest: dgst}
}

// lockedBuffer is a bytes.Buffer the deploy's goroutines may log to.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
