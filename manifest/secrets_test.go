package manifest_test

import (
	"reflect"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
)

// TestSecretsParsedAndAppliedPerEnvironment: a service's secrets travel in
// its spec; an environment adds its own to them.
func TestSecretsParsedAndAppliedPerEnvironment(t *testing.T) {
	m, err := manifest.Parse([]byte(`version: 1
services:
  - {name: web, context: web, port: 8080, secrets: [DATABASE_URL, API_KEY], env: {MODE: dev}}
  - {name: api, context: api, port: 9090}
environments:
  staging: {}
  production:
    pin: deploy/production.yaml
    services:
      web: {secrets: [SENTRY_DSN, API_KEY]}
      api: {secrets: [DATABASE_URL]}
`))
	if err != nil {
		t.Fatal(err)
	}
	svcs := m.Services()
	if want := []string{"DATABASE_URL", "API_KEY"}; !reflect.DeepEqual(svcs[0].Secrets, want) || svcs[1].Secrets != nil {
		t.Fatalf("secrets %q and %q, want %q and none", svcs[0].Secrets, svcs[1].Secrets, want)
	}
	images := []events.Image{{Service: svcs[0]}, {Service: svcs[1]}}
	envs := m.Environments()
	staging, production := envs[0].Apply(images), envs[1].Apply(images)
	if !reflect.DeepEqual(staging[0].Service.Secrets, []string{"DATABASE_URL", "API_KEY"}) || staging[1].Service.Secrets != nil {
		t.Errorf("staging secrets %q, %q; want the services' own", staging[0].Service.Secrets, staging[1].Service.Secrets)
	}
	if want := []string{"DATABASE_URL", "API_KEY", "SENTRY_DSN"}; !reflect.DeepEqual(production[0].Service.Secrets, want) {
		t.Errorf("production web secrets %q, want %q", production[0].Service.Secrets, want)
	}
	if want := []string{"DATABASE_URL"}; !reflect.DeepEqual(production[1].Service.Secrets, want) {
		t.Errorf("production api secrets %q, want %q", production[1].Service.Secrets, want)
	}
	svcs[0].Secrets[0] = "CHANGED"
	if m.Services()[0].Secrets[0] != "DATABASE_URL" {
		t.Error("Services() shares its secrets slice with the manifest")
	}
}

func TestSecretsErrors(t *testing.T) {
	head := "version: 1\nservices:\n"
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"not a list", "  - {name: web, context: web, port: 80, secrets: DATABASE_URL}\n",
			[]string{"slipway.yaml:3: services[0].secrets: must be a list of secret names"}},
		{"bad name", "  - {name: web, context: web, port: 80, secrets: [database-url]}\n",
			[]string{"slipway.yaml:3: services[0].secrets[0]: secret name must match [A-Za-z_][A-Za-z0-9_]*"}},
		{"reserved name", "  - {name: web, context: web, port: 80, secrets: [SLIPWAY_COMMIT]}\n",
			[]string{"slipway.yaml:3: services[0].secrets[0]: secret name must not start with SLIPWAY_ (Slipway sets those variables)"}},
		{"twice", "  - {name: web, context: web, port: 80, secrets: [A, A]}\n",
			[]string{"slipway.yaml:3: services[0].secrets[1]: secret A is listed twice"}},
		{"also in env", "  - {name: web, context: web, port: 80, secrets: [A], env: {A: x}}\n",
			[]string{"slipway.yaml:3: services[0].secrets: A is both a secret and in env"}},
		{"env of an environment hides it", "  - {name: web, context: web, port: 80, secrets: [A]}\nenvironments:\n  s: {services: {web: {env: {A: x}}}}\n",
			[]string{"slipway.yaml: environments.s.services.web: A is both a secret and in env"}},
		{"environment secret in the service's env", "  - {name: web, context: web, port: 80, env: {B: x}}\nenvironments:\n  s: {services: {web: {secrets: [B]}}}\n",
			[]string{"slipway.yaml: environments.s.services.web: B is both a secret and in env"}},
		{"bad name in an environment", "  - {name: web, context: web, port: 80}\nenvironments:\n  s: {services: {web: {secrets: [1X]}}}\n",
			[]string{"slipway.yaml:5: environments.s.services.web.secrets[0]: secret name must match [A-Za-z_][A-Za-z0-9_]*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := manifest.Parse([]byte(head + tt.in))
			if err == nil {
				t.Fatalf("Parse() = %+v, want an error", m.Services())
			}
			if got := problems(err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}
