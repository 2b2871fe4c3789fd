package manifest_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
)

const checksBase = `version: 1
services:
  - name: api
    context: api
    port: 9090
`

func TestChecksAndDiffers(t *testing.T) {
	m, err := manifest.Parse([]byte(checksBase + `checks:
  - name: unit
    service: api
    run: go test ./...
    target: test
    timeout: 5m
  - name: deps
    service: api
    run: go mod verify
    network: true
differs: [hosts, replicas, hosts]
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []events.Check{
		{Name: "unit", Service: "api", Run: "go test ./...", Target: "test", Timeout: 5 * time.Minute},
		{Name: "deps", Service: "api", Run: "go mod verify", Network: true, Timeout: manifest.DefaultCheckTimeout},
	}
	if got := m.Checks(); !reflect.DeepEqual(got, want) {
		t.Errorf("checks = %+v, want %+v", got, want)
	}
	if got := m.Differs(); !reflect.DeepEqual(got, []string{"hosts", "replicas"}) {
		t.Errorf("differs = %q", got)
	}
}

func TestChecksInvalid(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown service", "checks:\n  - {name: unit, service: web, run: make}\n", "checks[0].service: names no service"},
		{"no run", "checks:\n  - {name: unit, service: api}\n", "checks[0].run: required"},
		{"two lines", "checks:\n  - {name: unit, service: api, run: \"a\\nb\"}\n", "must be one line"},
		{"duplicate", "checks:\n  - {name: unit, service: api, run: a}\n  - {name: unit, service: api, run: b}\n", "duplicate check name"},
		{"timeout", "checks:\n  - {name: unit, service: api, run: a, timeout: 3h}\n", "checks[0].timeout"},
		{"unknown field", "checks:\n  - {name: unit, service: api, run: a, image: x}\n", "checks[0].image: unknown field"},
		{"unknown differs key", "differs: [domains]\n", `unknown key "domains"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := manifest.Parse([]byte(checksBase + tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestDiffersDeclared(t *testing.T) {
	for yaml, want := range map[string]bool{"": false, "differs: []\n": true, "differs: [target]\n": true} {
		m, err := manifest.Parse([]byte(checksBase + yaml))
		if err != nil {
			t.Fatal(err)
		}
		if m.DeclaresDiffers() != want {
			t.Errorf("%q: DeclaresDiffers = %v, want %v", yaml, !want, want)
		}
	}
}
