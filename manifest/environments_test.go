package manifest_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
)

const envHead = "version: 1\nservices:\n" +
	"  - {name: web, context: web, port: 8080, env: {GREETING: hello, MODE: dev}}\n" +
	"  - {name: api, context: api, port: 9090}\n"

func TestEnvironmentsDefault(t *testing.T) {
	m, err := manifest.Parse([]byte(envHead))
	if err != nil {
		t.Fatal(err)
	}
	if m.DeclaresEnvironments() {
		t.Error("DeclaresEnvironments() = true for a manifest without environments")
	}
	want := manifest.DefaultEnvironments()
	if got := m.Environments(); !reflect.DeepEqual(got, want) {
		t.Errorf("Environments() = %+v, want the defaults %+v", got, want)
	}
	if want[0].Name != "staging" || want[1].Pin != "deploy/production.yaml" || want[2].PreviewName(7) != "pr-7" {
		t.Errorf("defaults = %+v", want)
	}
}

func TestEnvironmentsDeclared(t *testing.T) {
	m, err := manifest.Parse([]byte(envHead + `environments:
  staging:
  qa: {branch: develop, keep: 3, retain: 5}
  production:
    pin: ./deploy/prod.yaml
    keep: 20
    services:
      web:
        env: {GREETING: hello from production, WORKERS: 4}
        replicas: 2
        hosts: [Shop.Example.com]
  preview:
    previews: true
    ttl: 36h
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []manifest.Environment{
		{Name: "staging", Follows: manifest.FollowsBranch, Keep: 10, Retain: 3},
		{Name: "qa", Follows: manifest.FollowsBranch, Branch: "develop", Keep: 3, Retain: 5},
		{Name: "production", Follows: manifest.FollowsPin, Pin: "deploy/prod.yaml", Keep: 20, Retain: 3, Services: map[string]manifest.Override{
			"web": {Env: map[string]string{"GREETING": "hello from production", "WORKERS": "4"}, Replicas: 2, Hosts: []string{"shop.example.com"}},
		}},
		{Name: "preview", Follows: manifest.FollowsPullRequests, TTL: 36 * time.Hour, Keep: 1, Retain: 1},
	}
	got := m.Environments()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Environments() =\n%+v\nwant\n%+v", got, want)
	}
	got[2].Services["web"].Env["GREETING"] = "changed"
	if again := m.Environments(); again[2].Services["web"].Env["GREETING"] != "hello from production" {
		t.Error("Environments() shares maps with the caller")
	}

	tests := []struct {
		name, env string
		want      string
		ok        bool
	}{
		{"declared", "qa", "qa", true},
		{"preview", "preview-12", "preview", true},
		{"preview without number", "preview-", "", false},
		{"preview with leading zero", "preview-012", "", false},
		{"unknown", "nope", "", false},
	}
	for _, tt := range tests {
		e, ok := m.Environment(tt.env)
		if ok != tt.ok || e.Name != tt.want {
			t.Errorf("%s: Environment(%q) = %q, %v; want %q, %v", tt.name, tt.env, e.Name, ok, tt.want, tt.ok)
		}
	}
	if !want[0].FollowsBranchOf("main", "main") || want[0].FollowsBranchOf("develop", "main") ||
		!want[1].FollowsBranchOf("develop", "main") || want[2].FollowsBranchOf("main", "main") {
		t.Error("FollowsBranchOf disagrees with the declarations")
	}
}

// TestEnvironmentTarget: an environment names the operator's target it
// runs on; one that names none runs on the deployer's own daemon ("").
func TestEnvironmentTarget(t *testing.T) {
	m, err := manifest.Parse([]byte(envHead + `environments:
  staging: {}
  production: {pin: deploy/production.yaml, target: prod-hosts}
  pr: {previews: true, target: cluster}
`))
	if err != nil {
		t.Fatal(err)
	}
	for env, want := range map[string]string{"staging": "", "production": "prod-hosts", "pr-12": "cluster"} {
		if e, ok := m.Environment(env); !ok || e.Target != want {
			t.Errorf("Environment(%s) = %+v, %v; want target %q", env, e, ok, want)
		}
	}
}

func TestEnvironmentApply(t *testing.T) {
	m, err := manifest.Parse([]byte(envHead + `environments:
  production:
    pin: deploy/production.yaml
    services:
      web: {env: {GREETING: hi}, replicas: 3, hosts: [shop.example.com]}
`))
	if err != nil {
		t.Fatal(err)
	}
	images := []events.Image{}
	for _, s := range m.Services() {
		images = append(images, events.Image{Service: s, Ref: "r/" + s.Name + ":1", Digest: "sha256:" + s.Name})
	}
	prod, _ := m.Environment("production")
	got := prod.Apply(images)
	if w := got[0].Service; w.Env["GREETING"] != "hi" || w.Env["MODE"] != "dev" || w.Replicas != 3 ||
		!reflect.DeepEqual(w.Hosts, []string{"shop.example.com"}) || got[0].Digest != "sha256:web" {
		t.Errorf("web in production = %+v", got[0])
	}
	if !reflect.DeepEqual(got[1], images[1]) {
		t.Errorf("api changed: %+v", got[1])
	}
	if images[0].Service.Env["GREETING"] != "hello" {
		t.Error("Apply changed its input")
	}
}

func TestEnvironmentErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"not a mapping", "environments: [staging]\n", []string{"slipway.yaml:5: environments: must be a mapping of environment names"}},
		{"empty", "environments: {}\n", []string{"slipway.yaml:5: environments: must declare at least one environment"}},
		{"bad name", "environments:\n  Prod: {}\n", []string{"slipway.yaml:6: environments.Prod: must contain only lower-case letters, digits and '-'"}},
		{"two kinds", "environments:\n  p: {pin: a.yaml, branch: main}\n", []string{"slipway.yaml:6: environments.p: declares branch and pin: an environment follows one of branch, pin or previews"}},
		{"two preview templates", "environments:\n  a: {previews: true}\n  b: {previews: true}\n", []string{"slipway.yaml:7: environments.b.previews: only one environment may hold previews (a does)"}},
		{"ttl without previews", "environments:\n  s: {ttl: 1h}\n", []string{"slipway.yaml:6: environments.s.ttl: only an environment with previews: true has a ttl"}},
		{"release previews without previews", "environments:\n  s: {release_previews: true}\n", []string{"slipway.yaml:6: environments.s.release_previews: only an environment with previews: true previews releases"}},
		{"release previews not a boolean", "environments:\n  pr: {previews: true, release_previews: yes please}\n", []string{"slipway.yaml:6: environments.pr.release_previews: must be true or false"}},
		{"bad ttl", "environments:\n  s: {previews: true, ttl: soon}\n", []string{"slipway.yaml:6: environments.s.ttl: must be a positive duration such as 72h"}},
		{"bad keep", "environments:\n  s: {keep: 0}\n", []string{"slipway.yaml:6: environments.s.keep: must be between 1 and 1000"}},
		{"bad retain", "environments:\n  s: {retain: 0}\n", []string{"slipway.yaml:6: environments.s.retain: must be between 1 and 50"}},
		{"pin escapes", "environments:\n  p: {pin: ../x.yaml}\n", []string{`slipway.yaml:6: environments.p.pin: must stay inside the repository (no "..")`}},
		{"bad branch", "environments:\n  s: {branch: refs/heads/main}\n", []string{`slipway.yaml:6: environments.s.branch: must be a branch name such as "main" (no "refs/", no leading "-")`}},
		{"unknown field", "environments:\n  s: {image: x}\n", []string{"slipway.yaml:6: environments.s.image: unknown field"}},
		{"unknown service", "environments:\n  s: {services: {db: {replicas: 1}}}\n", []string{`slipway.yaml:6: environments.s.services.db: no service "db" is declared`}},
		{"bad replicas", "environments:\n  s: {services: {web: {replicas: 0}}}\n", []string{"slipway.yaml:6: environments.s.services.web.replicas: must be between 1 and 100"}},
		{"bad host", "environments:\n  s: {services: {web: {hosts: [\"a b\"]}}}\n", []string{"slipway.yaml:6: environments.s.services.web.hosts[0]: must be a host name such as shop.example.com"}},
		{"bad env value", "environments:\n  s: {services: {web: {env: {A: [1]}}}}\n", []string{"slipway.yaml:6: environments.s.services.web.env.A: must be a string"}},
		{"previews not a bool", "environments:\n  s: {previews: yes please}\n", []string{"slipway.yaml:6: environments.s.previews: must be true or false"}},
		{"bad target", "environments:\n  s: {target: Prod_Hosts}\n", []string{"slipway.yaml:6: environments.s.target: must contain only lower-case letters, digits and '-'"}},
		{"target not a name", "environments:\n  s: {target: [a, b]}\n", []string{"slipway.yaml:6: environments.s.target: must be a string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := manifest.Parse([]byte(envHead + tt.in))
			if err == nil {
				t.Fatalf("Parse() = %+v, want an error", m.Environments())
			}
			if got := problems(err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}

func TestParsePin(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{"formatted", string(manifest.FormatPin("production", sha)), sha, ""},
		{"plain", "commit: " + sha + "\n", sha, ""},
		{"sha256", "commit: " + sha + sha[:24] + "\n", sha + sha[:24], ""},
		{"missing", "# nothing pinned\nx: 1\n", "", "x: unknown field"},
		{"no commit", "{}\n", "", "commit: required"},
		{"short", "commit: 0123456\n", "", "must be a full commit id"},
		{"upper case", "commit: " + strings.ToUpper(sha) + "\n", "", "must be a full commit id"},
		{"number", "commit: 1234\n", "", "must be a full commit id"},
		{"all digits", "commit: 0123456789012345678901234567890123456789\n", "0123456789012345678901234567890123456789", ""},
		{"list", "commit: [a]\n", "", "commit: must be a string"},
		{"empty", "", "", "file is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := manifest.ParsePin([]byte(tt.in))
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("ParsePin() = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !events.IsPermanent(err) {
				t.Fatalf("ParsePin() error = %v, want a permanent error containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "slipway.yaml") {
				t.Errorf("pin error names slipway.yaml: %v", err)
			}
		})
	}
}
