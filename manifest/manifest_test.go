package manifest_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/valid")

// TestParseValid freezes the services parsed from each testdata/valid/*.yaml
// in the .golden.json beside it.
func TestParseValid(t *testing.T) {
	files, err := filepath.Glob("testdata/valid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no valid manifests: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			m, err := manifest.Parse(mustRead(t, file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := json.MarshalIndent(m.Services(), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(file, ".yaml") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if want := strings.TrimSpace(string(mustRead(t, golden))); string(got) != want {
				t.Errorf("services differ from %s:\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	m, err := manifest.Parse(mustRead(t, "testdata/valid/minimal.yaml"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []events.ServiceSpec{{
		Name: "web", Context: "services/web", Dockerfile: "Dockerfile", Port: 8080, HealthPath: "/",
	}}
	if got := m.Services(); !reflect.DeepEqual(got, want) {
		t.Errorf("Services() = %+v, want %+v", got, want)
	}
	if got := m.Names(); !reflect.DeepEqual(got, []string{"web"}) {
		t.Errorf("Names() = %v, want [web]", got)
	}
	if m.Version != 1 {
		t.Errorf("Version = %d, want 1", m.Version)
	}
}

func TestServicesReturnsCopies(t *testing.T) {
	m, err := manifest.Parse(mustRead(t, "testdata/valid/full.yaml"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	s := m.Services()
	s[0].Env["GREETING"] = "changed"
	s[0].Name = "changed"
	if again := m.Services(); again[0].Env["GREETING"] != "hello" || again[0].Name != "web" {
		t.Errorf("Services() shares state with the caller: %+v", again[0])
	}
}

func TestParseErrors(t *testing.T) {
	const head = "version: 1\nservices:\n"
	const svc = "  - name: web\n    context: web\n    port: 8080\n"
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty file", "", []string{"slipway.yaml: file is empty"}},
		{"comments only", "# nothing\n", []string{"slipway.yaml: file is empty"}},
		{"invalid yaml", "version: 1\nservices: [\n", []string{"slipway.yaml:2: invalid YAML: did not find expected node content"}},
		{"tab indentation", "version: 1\nservices:\n\t- name: web\n", []string{"slipway.yaml:3: invalid YAML: found character that cannot start any token"}},
		{"two documents", head + svc + "---\nversion: 1\n", []string{"slipway.yaml:6: only one YAML document is allowed"}},
		{"root is a list", "- web\n", []string{"slipway.yaml:1: must be a mapping"}},
		{"root is a scalar", "hello\n", []string{"slipway.yaml:1: must be a mapping"}},
		{"version missing", "services:\n" + svc, []string{"slipway.yaml:1: version: required (use 1)"}},
		{"version is a string", "version: \"1\"\nservices:\n" + svc, []string{"slipway.yaml:1: version: must be an integer"}},
		{"version unsupported", "version: 2\nservices:\n" + svc, []string{"slipway.yaml:1: version: unsupported version 2 (want 1)"}},
		{"unknown top-level field", head + svc + "registry: x\n", []string{"slipway.yaml:6: registry: unknown field"}},
		{"duplicate top-level field", head + svc + "version: 1\n", []string{"slipway.yaml:6: version: duplicate field, first set on line 1"}},
		{"non-scalar key", head + svc + "[a]: 1\n", []string{"slipway.yaml:6: keys must be strings"}},
		{"services missing", "version: 1\n", []string{"slipway.yaml:1: services: required"}},
		{"services null", "version: 1\nservices:\n", []string{"slipway.yaml:2: services: must be a list"}},
		{"services a mapping", "version: 1\nservices:\n  web: {}\n", []string{"slipway.yaml:3: services: must be a list"}},
		{"services empty", "version: 1\nservices: []\n", []string{"slipway.yaml:2: services: must list at least one service"}},
		{"service a scalar", head + "  - web\n", []string{"slipway.yaml:3: services[0]: must be a mapping"}},
		{"unknown service field", head + svc + "    replicas: 3\n", []string{"slipway.yaml:6: services[0].replicas: unknown field"}},
		{"duplicate service field", head + svc + "    port: 9090\n", []string{"slipway.yaml:6: services[0].port: duplicate field, first set on line 5"}},
		{"name missing", head + "  - context: web\n    port: 1\n", []string{"slipway.yaml:3: services[0].name: required"}},
		{"name empty", head + "  - name: \"\"\n    context: web\n    port: 1\n", []string{"slipway.yaml:3: services[0].name: must not be empty"}},
		{"name upper-case", head + "  - name: Web\n    context: web\n    port: 1\n", []string{"slipway.yaml:3: services[0].name: must contain only lower-case letters, digits and '-'"}},
		{"name with underscore", head + "  - name: my_web\n    context: web\n    port: 1\n", []string{"slipway.yaml:3: services[0].name: must contain only lower-case letters, digits and '-'"}},
		{"name too long", head + "  - name: " + strings.Repeat("a", 41) + "\n    context: web\n    port: 1\n", []string{"slipway.yaml:3: services[0].name: must be at most 40 characters"}},
		{"name leading dash", head + "  - name: -web\n    context: web\n    port: 1\n", []string{"slipway.yaml:3: services[0].name: must start and end with a letter or digit"}},
		{"name trailing dash", head + "  - name: web-\n    context: web\n    port: 1\n", []string{"slipway.yaml:3: services[0].name: must start and end with a letter or digit"}},
		{"name not a string", head + "  - name: 42\n    context: web\n    port: 1\n", []string{"slipway.yaml:3: services[0].name: must be a string"}},
		{"name duplicate", head + svc + svc, []string{"slipway.yaml:6: services[1].name: duplicate service name \"web\" (first used by services[0])"}},
		{"context missing", head + "  - name: web\n    port: 1\n", []string{"slipway.yaml:3: services[0].context: required"}},
		{"inputs not a list", head + svc + "    inputs: web\n", []string{"slipway.yaml:6: services[0].inputs: must be a non-empty list of paths inside the context"}},
		{"inputs empty", head + svc + "    inputs: []\n", []string{"slipway.yaml:6: services[0].inputs: must be a non-empty list of paths inside the context"}},
		{"input outside the context", head + svc + "    inputs: [libs/common]\n", []string{`slipway.yaml:6: services[0].inputs[0]: "libs/common" is outside the context "web": the build cannot see it`}},
		{"input escapes", head + svc + "    inputs: [web/../../x]\n", []string{`slipway.yaml:6: services[0].inputs[0]: must stay inside the repository (no "..")`}},
		{"input prefix is not inside", head + svc + "    inputs: [webapp]\n", []string{`slipway.yaml:6: services[0].inputs[0]: "webapp" is outside the context "web": the build cannot see it`}},
		{"context absolute", head + "  - name: web\n    context: /srv/web\n    port: 1\n", []string{"slipway.yaml:4: services[0].context: must be a relative path"}},
		{"context escapes", head + "  - name: web\n    context: ../other\n    port: 1\n", []string{`slipway.yaml:4: services[0].context: must stay inside the repository (no "..")`}},
		{"context escapes deep", head + "  - name: web\n    context: a/../../b\n    port: 1\n", []string{`slipway.yaml:4: services[0].context: must stay inside the repository (no "..")`}},
		{"context backslash", head + "  - name: web\n    context: 'a\\b'\n    port: 1\n", []string{"slipway.yaml:4: services[0].context: must use '/' as separator"}},
		{"context control char", head + "  - name: web\n    context: \"a\\nb\"\n    port: 1\n", []string{"slipway.yaml:4: services[0].context: must not contain control characters"}},
		{"context a list", head + "  - name: web\n    context: [a]\n    port: 1\n", []string{"slipway.yaml:4: services[0].context: must be a string"}},
		{"dockerfile absolute", head + svc + "    dockerfile: /Dockerfile\n", []string{"slipway.yaml:6: services[0].dockerfile: must be a relative path"}},
		{"dockerfile escapes", head + svc + "    dockerfile: ../Dockerfile\n", []string{`slipway.yaml:6: services[0].dockerfile: must stay inside the repository (no "..")`}},
		{"dockerfile empty", head + svc + "    dockerfile: ''\n", []string{"slipway.yaml:6: services[0].dockerfile: must not be empty"}},
		{"port missing", head + "  - name: web\n    context: web\n", []string{"slipway.yaml:3: services[0].port: required"}},
		{"port zero", head + "  - name: web\n    context: web\n    port: 0\n", []string{"slipway.yaml:5: services[0].port: must be between 1 and 65535"}},
		{"port too large", head + "  - name: web\n    context: web\n    port: 65536\n", []string{"slipway.yaml:5: services[0].port: must be between 1 and 65535"}},
		{"port negative", head + "  - name: web\n    context: web\n    port: -80\n", []string{"slipway.yaml:5: services[0].port: must be between 1 and 65535"}},
		{"port a string", head + "  - name: web\n    context: web\n    port: \"8080\"\n", []string{"slipway.yaml:5: services[0].port: must be an integer"}},
		{"port a float", head + "  - name: web\n    context: web\n    port: 80.5\n", []string{"slipway.yaml:5: services[0].port: must be an integer"}},
		{"port overflows", head + "  - name: web\n    context: web\n    port: 99999999999999999999\n", []string{"slipway.yaml:5: services[0].port: must be an integer"}},
		{"health relative", head + svc + "    health: healthz\n", []string{`slipway.yaml:6: services[0].health: must start with "/"`}},
		{"health with space", head + svc + "    health: /health z\n", []string{"slipway.yaml:6: services[0].health: must not contain spaces, '#' or control characters"}},
		{"health empty", head + svc + "    health: ''\n", []string{`slipway.yaml:6: services[0].health: must start with "/"`}},
		{"env a list", head + svc + "    env: [A=1]\n", []string{"slipway.yaml:6: services[0].env: must be a mapping"}},
		{"env bad name", head + svc + "    env: {1X: a}\n", []string{"slipway.yaml:6: services[0].env.1X: variable name must match [A-Za-z_][A-Za-z0-9_]*"}},
		{"env name with dash", head + svc + "    env: {MY-VAR: a}\n", []string{"slipway.yaml:6: services[0].env.MY-VAR: variable name must match [A-Za-z_][A-Za-z0-9_]*"}},
		{"env null value", head + svc + "    env: {A: ~}\n", []string{"slipway.yaml:6: services[0].env.A: must be a string"}},
		{"env nested value", head + svc + "    env:\n      A: {b: c}\n", []string{"slipway.yaml:7: services[0].env.A: must be a string"}},
		{"env value with NUL", head + svc + "    env: {A: \"x\\0y\"}\n", []string{"slipway.yaml:6: services[0].env.A: value must not contain a NUL byte"}},
		{"env value with NUL escape", head + svc + "    env: {A: \"\\x00\"}\n", []string{"slipway.yaml:6: services[0].env.A: value must not contain a NUL byte"}},
		{"env value too long", head + svc + "    env: {AB: " + strings.Repeat("x", manifest.MaxEnvEntry-2) + "}\n",
			[]string{"slipway.yaml:6: services[0].env.AB: AB=value is 131072 bytes, more than the 131071 a process can be given"}},
		{"resources a list", head + svc + "    resources: [1]\n", []string{"slipway.yaml:6: services[0].resources: must be a mapping"}},
		{"resources unknown", head + svc + "    resources: {disk: 1g}\n", []string{"slipway.yaml:6: services[0].resources.disk: unknown field"}},
		{"memory no number", head + svc + "    resources: {memory: lots}\n", []string{`slipway.yaml:6: services[0].resources.memory: "lots": want an amount between 6MiB and 1TiB, such as 512MiB or 1GiB`}},
		{"memory bad unit", head + svc + "    resources: {memory: 1GB2}\n", []string{`slipway.yaml:6: services[0].resources.memory: "1GB2": want an amount between 6MiB and 1TiB, such as 512MiB or 1GiB`}},
		{"memory too small", head + svc + "    resources: {memory: 1m}\n", []string{`slipway.yaml:6: services[0].resources.memory: "1m": want an amount between 6MiB and 1TiB, such as 512MiB or 1GiB`}},
		{"memory overflows", head + svc + "    resources: {memory: \"1e30\"}\n", []string{`slipway.yaml:6: services[0].resources.memory: "1e30": want an amount between 6MiB and 1TiB, such as 512MiB or 1GiB`}},
		{"memory negative", head + svc + "    resources: {memory: -512m}\n", []string{`slipway.yaml:6: services[0].resources.memory: "-512m": want an amount between 6MiB and 1TiB, such as 512MiB or 1GiB`}},
		{"memory a list", head + svc + "    resources: {memory: [1]}\n", []string{"slipway.yaml:6: services[0].resources.memory: must be an amount of memory such as 512MiB"}},
		{"pids zero", head + svc + "    resources: {pids: 0}\n", []string{"slipway.yaml:6: services[0].resources.pids: must be between 1 and 4194304"}},
		{"pids a string", head + svc + "    resources: {pids: many}\n", []string{"slipway.yaml:6: services[0].resources.pids: must be an integer"}},
		{"cpus zero", head + svc + "    resources: {cpus: 0}\n", []string{"slipway.yaml:6: services[0].resources.cpus: must be between 0.01 and 1024"}},
		{"cpus nan", head + svc + "    resources: {cpus: .nan}\n", []string{"slipway.yaml:6: services[0].resources.cpus: must be between 0.01 and 1024"}},
		{"cpus a string", head + svc + "    resources: {cpus: \"2\"}\n", []string{"slipway.yaml:6: services[0].resources.cpus: must be a number such as 1.5"}},
		{"user empty", head + svc + "    user: ''\n", []string{`slipway.yaml:6: services[0].user: must be "user" or "user:group", each a number or a name of letters, digits, '_', '.' and '-' (at most 32)`}},
		{"user with NUL", head + svc + "    user: \"app\\0\"\n", []string{`slipway.yaml:6: services[0].user: must be "user" or "user:group", each a number or a name of letters, digits, '_', '.' and '-' (at most 32)`}},
		{"user option", head + svc + "    user: --privileged\n", []string{`slipway.yaml:6: services[0].user: must be "user" or "user:group", each a number or a name of letters, digits, '_', '.' and '-' (at most 32)`}},
		{"user three parts", head + svc + "    user: a:b:c\n", []string{`slipway.yaml:6: services[0].user: must be "user" or "user:group", each a number or a name of letters, digits, '_', '.' and '-' (at most 32)`}},
		{"user a list", head + svc + "    user: [1]\n", []string{`slipway.yaml:6: services[0].user: must be a user such as "1000:1000" or "app"`}},
		{"env duplicate", head + svc + "    env:\n      A: x\n      A: y\n", []string{"slipway.yaml:8: services[0].env.A: duplicate field, first set on line 7"}},
		{
			name: "every problem at once",
			in: "version: 3\nservices:\n" +
				"  - name: Web\n    context: /abs\n    port: 0\n    extra: 1\n" +
				"  - name: api\n    port: x\n    health: nope\n",
			want: []string{
				"slipway.yaml:1: version: unsupported version 3 (want 1)",
				"slipway.yaml:6: services[0].extra: unknown field",
				"slipway.yaml:3: services[0].name: must contain only lower-case letters, digits and '-'",
				"slipway.yaml:4: services[0].context: must be a relative path",
				"slipway.yaml:5: services[0].port: must be between 1 and 65535",
				"slipway.yaml:7: services[1].context: required",
				"slipway.yaml:8: services[1].port: must be an integer",
				`slipway.yaml:9: services[1].health: must start with "/"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := manifest.Parse([]byte(tt.in))
			if err == nil {
				t.Fatalf("Parse() = %+v, want an error", m.Services())
			}
			if !events.IsPermanent(err) {
				t.Errorf("error is not permanent: %v", err)
			}
			if got := problems(err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}

// problems returns the message of every FieldError in err, in order.
func problems(err error) []string {
	var out []string
	var walk func(error)
	walk = func(err error) {
		// The walk visits the tree itself, one node at a time: what counts
		// is each node's own type, not what it wraps.
		switch u := err.(type) { //nolint:errorlint // see above
		case *manifest.FieldError:
			out = append(out, u.Error())
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

func mustRead(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestParseLimits(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantN    int
		wantLast string
	}{
		{"file too large", strings.Repeat("#", manifest.MaxSize+1), 1,
			"slipway.yaml: file is 1048577 bytes, more than the limit of 1048576"},
		{"too many problems", "version: 1\nservices:\n" + strings.Repeat("  - web\n", 25), 21,
			"slipway.yaml: and 5 more problems"},
		{"many duplicate keys", "version: 1\n" + strings.Repeat("x: 1\n", 50000), 21,
			"slipway.yaml: and 49981 more problems"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := manifest.Parse([]byte(tt.in))
			got := problems(err)
			if len(got) != tt.wantN || got[len(got)-1] != tt.wantLast {
				t.Errorf("got %d problems ending %q, want %d ending %q", len(got), got[len(got)-1], tt.wantN, tt.wantLast)
			}
		})
	}
}
