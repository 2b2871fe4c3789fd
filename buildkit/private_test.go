package buildkit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/buildkit"
	"github.com/slipway-dev/slipway/buildkit/buildkittest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/registry"
	"github.com/slipway-dev/slipway/registry/registrytest"
)

// TestBuildPrivateRegistry pushes to a real Distribution registry with
// htpasswd and TLS under a CA made by the test, through a buildkitd of the
// test's own whose buildkitd.toml trusts that CA (so buildkitd verifies the
// certificate; Slipway hands it the credentials through the session's auth
// provider). Good credentials push the image and its cache, from flags or
// from a config.json whose credsStore is a real docker-credential-*
// helper; a wrong password, an unknown user and no credentials fail once,
// permanently, saying "registry refused credentials for <host>"; a registry
// whose CA buildkitd does not trust fails naming the host. Neither the
// error nor the log holds the password.
func TestBuildPrivateRegistry(t *testing.T) {
	p := registrytest.MustPrivate(t)
	untrusted := registrytest.MustPrivate(t) // a CA buildkitd is not given
	own := buildkittest.MustOwnBuildkitd(t, fmt.Sprintf(
		"[registry.%q]\n  http = false\n  ca = [%q]\n[registry.%q]\n  http = false\n",
		p.Host, p.CAFile, untrusted.Host))
	base := buildkittest.MustBaseImage(t, buildkittest.MustRegistry(t))
	req := writeContext(t, map[string]string{
		"Dockerfile": "FROM " + base + "\nCOPY app.txt /app.txt\nRUN cat /app.txt > /copy\n",
		"app.txt":    "private\n",
	})
	good := registry.NewCredentials()
	good.Add(p.Host, registry.Credential{Username: p.User, Password: p.Password})
	calls := p.MustCredentialHelper(t, p.Password)
	fromHelper := registry.NewCredentials()
	if err := fromHelper.LoadDockerConfig(p.MustDockerConfig(t, "credsStore", p.Password)); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		host    string
		creds   *registry.Credentials
		ca      string
		wantErr string
	}{
		{"credentials from flags", p.Host, good, p.CAFile, ""},
		{"credentials from a credential helper", p.Host, fromHelper, p.CAFile, ""},
		{"wrong password", p.Host, credsFor(p.Host, p.User, "wrong-"+p.Password), p.CAFile, "registry refused credentials for " + p.Host},
		{"unknown user", p.Host, credsFor(p.Host, "nobody", p.Password), p.CAFile, "registry refused credentials for " + p.Host},
		{"missing credentials", p.Host, nil, p.CAFile, "registry refused credentials for " + p.Host + " (none configured for it)"},
		{"untrusted CA", untrusted.Host, credsFor(untrusted.Host, untrusted.User, untrusted.Password), untrusted.CAFile,
			"registry " + untrusted.Host + ": TLS certificate not trusted by buildkitd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := buildkit.New(context.Background(), own.Addr, buildkit.WithRegistry(registry.Access{Credentials: tt.creds, CAFile: tt.ca}))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			repo := buildkittest.UniqueRepo(t)
			r := req
			r.Image = tt.host + "/" + repo + ":v1"
			r.CacheRef = tt.host + "/" + repo + "/cache:buildcache"
			var logs bytes.Buffer
			ctx := zerolog.New(&logs).Level(zerolog.DebugLevel).WithContext(testContext(t))
			res, err := b.Build(ctx, r)
			for _, secret := range []string{p.Password, untrusted.Password} {
				if (err != nil && strings.Contains(err.Error(), secret)) || strings.Contains(logs.String(), secret) {
					t.Fatalf("the password reached the error or the log: %v", err)
				}
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				requirePushed(t, p, tt.creds, repo, "v1", res.Digest)
				requirePushed(t, p, tt.creds, repo+"/cache", "buildcache", "")
				return
			}
			if err == nil {
				t.Fatal("Build succeeded")
			}
			t.Logf("build error: %v", err)
			if !events.IsPermanent(err) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Build error %v; want a permanent error saying %q", err, tt.wantErr)
			}
		})
	}
	if helperCalls := readLines(t, calls); helperCalls == 0 {
		t.Error("the credential helper was never asked")
	}
}

func credsFor(host, user, password string) *registry.Credentials {
	c := registry.NewCredentials()
	c.Add(host, registry.Credential{Username: user, Password: password})
	return c
}

// requirePushed checks, with Slipway's registry client, that repo:tag is in
// the registry (with digest want, unless empty).
func requirePushed(t *testing.T, p *registrytest.Private, creds *registry.Credentials, repo, tag, want string) {
	t.Helper()
	c, err := registry.New(p.Host, registry.Access{Credentials: creds, CAFile: p.CAFile})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Digest(context.Background(), repo, tag)
	if err != nil || (want != "" && got != want) {
		t.Fatalf("%s:%s in the registry: %q, %v; want %q", repo, tag, got, err, want)
	}
}

func readLines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}
