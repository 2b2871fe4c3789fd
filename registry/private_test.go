package registry_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/registry"
	"github.com/slipway-dev/slipway/registry/registrytest"
)

// TestClientPrivate runs the client against a real Distribution registry
// with htpasswd and TLS under a CA made by the test: with good credentials
// it lists, resolves, tags and deletes; a wrong password, an unknown user,
// no credentials and an untrusted CA each fail with an error naming the
// host and never the password.
func TestClientPrivate(t *testing.T) {
	p := registrytest.MustPrivate(t)
	other := registrytest.MustCA(t, t.TempDir(), "another CA")
	repo := "acme/web"
	digest := p.MustPushManifest(t, repo, "v1", "layer one")
	p.MustPushManifest(t, repo, "v2", "layer two") // Delete of the good case leaves the repository
	good := registry.NewCredentials()
	good.Add(p.Host, registry.Credential{Username: p.User, Password: p.Password})

	t.Run("good credentials", func(t *testing.T) {
		c := mustClient(t, p.Host, registry.Access{Credentials: good, CAFile: p.CAFile})
		requireUsable(t, c, repo, digest)
		if err := c.Delete(context.Background(), repo, digest); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Digest(context.Background(), repo, "v1"); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("Digest after Delete: %v, want ErrNotFound", err)
		}
	})
	tests := []struct {
		name    string
		access  registry.Access
		wantErr error
		want    string
	}{
		{"wrong password", registry.Access{Credentials: creds(p.Host, p.User, "not-"+p.Password), CAFile: p.CAFile},
			registry.ErrRefused, "registry refused credentials for " + p.Host},
		{"unknown user", registry.Access{Credentials: creds(p.Host, "nobody", p.Password), CAFile: p.CAFile},
			registry.ErrRefused, "registry refused credentials for " + p.Host},
		{"missing credentials", registry.Access{CAFile: p.CAFile},
			registry.ErrRefused, "registry refused credentials for " + p.Host + " (none configured for it)"},
		{"credentials of another host", registry.Access{Credentials: creds("registry.example.com", p.User, p.Password), CAFile: p.CAFile},
			registry.ErrRefused, "(none configured for it)"},
		{"untrusted CA", registry.Access{Credentials: good, CAFile: other.File},
			nil, "registry " + p.Host + ": TLS certificate not trusted by slipway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustClient(t, p.Host, tt.access)
			_, err := c.Tags(context.Background(), repo)
			if err == nil {
				t.Fatal("Tags succeeded")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v, want errors.Is %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), p.Password) {
				t.Errorf("error %q holds the password", err)
			}
		})
	}
}

// TestClientDockerConfig reads the credentials from a Docker config.json:
// inline auths, a credential helper for the host (credHelpers) and a
// default store (credsStore), the helpers being a real
// docker-credential-slipwaytest program on PATH.
func TestClientDockerConfig(t *testing.T) {
	p := registrytest.MustPrivate(t)
	digest := p.MustPushManifest(t, "acme/api", "v1", "layer api")
	calls := p.MustCredentialHelper(t, p.Password)
	for _, kind := range []string{"auths", "credHelpers", "credsStore"} {
		t.Run(kind, func(t *testing.T) {
			creds := registry.NewCredentials()
			if err := creds.LoadDockerConfig(p.MustDockerConfig(t, kind, p.Password)); err != nil {
				t.Fatal(err)
			}
			before := helperCalls(t, calls)
			c := mustClient(t, p.Host, registry.Access{Credentials: creds, CAFile: p.CAFile})
			requireUsable(t, c, "acme/api", digest)
			if used := helperCalls(t, calls) > before; used != (kind != "auths") {
				t.Errorf("credential helper called: %v, want %v", used, kind != "auths")
			}
		})
	}
	t.Run("helper refuses the host", func(t *testing.T) {
		creds := registry.NewCredentials()
		if err := creds.LoadDockerConfig(p.MustDockerConfig(t, "credsStore", "")); err != nil {
			t.Fatal(err)
		}
		_, ok, err := creds.Lookup("registry.example.com")
		if err != nil || ok {
			t.Fatalf("Lookup of a host the helper does not know = %v, %v; want none, no error", ok, err)
		}
	})
	t.Run("helper missing", func(t *testing.T) {
		path := t.TempDir() + "/config.json"
		if err := os.WriteFile(path, []byte(`{"credHelpers": {"`+p.Host+`": "slipwaymissing"}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		creds := registry.NewCredentials()
		if err := creds.LoadDockerConfig(path); err != nil {
			t.Fatal(err)
		}
		_, err := registry.New(p.Host, registry.Access{Credentials: creds, CAFile: p.CAFile})
		if err == nil || !strings.Contains(err.Error(), "credential helper docker-credential-slipwaymissing") || !strings.Contains(err.Error(), p.Host) {
			t.Fatalf("New with a missing helper: %v; want an error naming the helper and the host", err)
		}
	})
	t.Run("malformed config", func(t *testing.T) {
		path := t.TempDir() + "/config.json"
		if err := os.WriteFile(path, []byte(`{"auths": {"x": {"auth": "`+p.Password+`"}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		err := registry.NewCredentials().LoadDockerConfig(path)
		if err == nil || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), p.Password) {
			t.Fatalf("LoadDockerConfig of a malformed file = %v; want an error naming the file, not its content", err)
		}
	})
}

func mustClient(t *testing.T, host string, a registry.Access) *registry.Client {
	t.Helper()
	c, err := registry.New(host, a)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func creds(host, user, password string) *registry.Credentials {
	c := registry.NewCredentials()
	c.Add(host, registry.Credential{Username: user, Password: password})
	return c
}

// requireUsable tags, lists, resolves and deletes through c.
func requireUsable(t *testing.T, c *registry.Client, repo, digest string) {
	t.Helper()
	ctx := context.Background()
	tag := "t" + registrytest.RandomHex(4)
	if err := c.Tag(ctx, repo, digest, tag); err != nil {
		t.Fatal(err)
	}
	tags, err := c.Tags(ctx, repo)
	if err != nil || !slices.Contains(tags, tag) {
		t.Fatalf("Tags() = %v, %v; want %s", tags, err, tag)
	}
	if d, err := c.Digest(ctx, repo, tag); err != nil || d != digest {
		t.Fatalf("Digest(%s) = %q, %v; want %s", tag, d, err, digest)
	}
}

func helperCalls(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

// TestClientBearerToken runs the client against a real Distribution
// registry using token authentication: the client follows the Bearer
// challenge to the token service with its credentials, then tags, lists
// and deletes with the token; a wrong password is refused by the token
// service, naming the registry.
func TestClientBearerToken(t *testing.T) {
	p, ts := registrytest.MustPrivateToken(t)
	repo := "acme/worker"
	digest := p.MustPushManifest(t, repo, "v1", "layer worker")
	c := mustClient(t, p.Host, registry.Access{Credentials: creds(p.Host, p.User, p.Password), CAFile: p.CAFile})
	requireUsable(t, c, repo, digest)
	if err := c.Delete(context.Background(), repo, digest); err != nil {
		t.Fatal(err)
	}
	if ts.Issued.Load() == 0 {
		t.Error("the token service issued no token")
	}
	bad := mustClient(t, p.Host, registry.Access{Credentials: creds(p.Host, p.User, "wrong-"+p.Password), CAFile: p.CAFile})
	_, err := bad.Tags(context.Background(), repo)
	if !errors.Is(err, registry.ErrRefused) || !strings.Contains(err.Error(), "registry refused credentials for "+p.Host) || strings.Contains(err.Error(), p.Password) {
		t.Errorf("Tags with a wrong password: %v; want refused for %s, without the password", err, p.Host)
	}
	if ts.Refused.Load() == 0 {
		t.Error("the token service refused nothing")
	}
}
