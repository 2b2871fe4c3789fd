package manifest_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
)

func TestProvision(t *testing.T) {
	m, err := manifest.Parse([]byte(`version: 1
services:
  - {name: api, context: api, port: 9090}
environments:
  staging: {branch: main}
  production: {pin: deploy/production.yaml}
  preview: {previews: true}
provision:
  - name: infra
    image: localhost:5000/mirror/tofu:1.10.6
    dir: ./infra/
    plan: [tofu, plan, -no-color]
    apply: [tofu, apply, -auto-approve]
    secrets: [CLOUD_TOKEN]
    timeout: 5m
  - name: dns
    image: tofu
    dir: dns
    apply: tofu apply -auto-approve
    environments: [production]
    network: true
`))
	if err != nil {
		t.Fatal(err)
	}
	infra := events.ProvisionStep{Name: "infra", Image: "localhost:5000/mirror/tofu:1.10.6", Dir: "infra",
		Plan: []string{"tofu", "plan", "-no-color"}, Apply: []string{"tofu", "apply", "-auto-approve"}, Secrets: []string{"CLOUD_TOKEN"}, Timeout: 5 * time.Minute}
	dns := events.ProvisionStep{Name: "dns", Image: "tofu", Dir: "dns", Apply: []string{"sh", "-c", "tofu apply -auto-approve"},
		Environments: []string{"production"}, Network: true, Timeout: manifest.DefaultProvisionTimeout}
	tests := []struct {
		env  string
		want []events.ProvisionStep
	}{
		{"staging", []events.ProvisionStep{infra}},
		{"production", []events.ProvisionStep{infra, dns}},
		{"preview-3", nil},
		{"preview", nil},
		{"qa", nil},
	}
	for _, tt := range tests {
		if got := m.Provision(tt.env); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Provision(%q) = %+v, want %+v", tt.env, got, tt.want)
		}
	}
	m.Provision("staging")[0].Apply[0] = "changed"
	if m.Provision("staging")[0].Apply[0] != "tofu" {
		t.Error("Provision() shares its commands with the caller")
	}
}

func TestProvisionErrors(t *testing.T) {
	const head = "version: 1\nservices:\n  - {name: api, context: api, port: 9090}\nprovision:\n"
	tests := []struct {
		name, in string
		want     []string
	}{
		{"not a list", "  infra: x\n", []string{"slipway.yaml:5: provision: must be a list of provisioning steps"}},
		{"no apply", "  - {name: infra, image: tofu, dir: infra}\n", []string{"slipway.yaml:5: provision[0].apply: required"}},
		{"no image nor dir", "  - {name: infra, apply: x}\n", []string{"slipway.yaml:5: provision[0].image: required", "slipway.yaml:5: provision[0].dir: required"}},
		{"dir outside", "  - {name: infra, image: tofu, dir: ../x, apply: x}\n", []string{"slipway.yaml:5: provision[0].dir: must stay inside the repository (no \"..\")"}},
		{"bad image", "  - {name: infra, image: \"a b\", dir: infra, apply: x}\n", []string{"slipway.yaml:5: provision[0].image: must not contain spaces or control characters"}},
		{"unknown environment", "  - {name: infra, image: tofu, dir: infra, apply: x, environments: [qa]}\n", []string{`slipway.yaml:5: provision[0].environments[0]: "qa" is no environment of this file (previews are never provisioned)`}},
		{"preview environment", "  - {name: infra, image: tofu, dir: infra, apply: x, environments: [preview]}\n", []string{`slipway.yaml:5: provision[0].environments[0]: "preview" is no environment of this file (previews are never provisioned)`}},
		{"duplicate", "  - {name: infra, image: tofu, dir: a, apply: x}\n  - {name: infra, image: tofu, dir: b, apply: y}\n", []string{`slipway.yaml:6: provision[1].name: duplicate provisioning step "infra"`}},
		{"bad timeout", "  - {name: infra, image: tofu, dir: infra, apply: x, timeout: 3h}\n", []string{"slipway.yaml:5: provision[0].timeout: must be a duration between 1s and 2h0m0s, such as 10m"}},
		{"bad secret", "  - {name: infra, image: tofu, dir: infra, apply: x, secrets: [SLIPWAY_X]}\n", []string{"slipway.yaml:5: provision[0].secrets[0]: secret name must not start with SLIPWAY_ (Slipway sets those variables)"}},
		{"unknown field", "  - {name: infra, image: tofu, dir: infra, apply: x, state: s3}\n", []string{"slipway.yaml:5: provision[0].state: unknown field"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := manifest.Parse([]byte(head + tt.in))
			if got := problems(err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}
