package manifest_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/manifest"
)

// TestNamedLists: the lists of named entries (checks, provisioning steps,
// a service's tasks) share their rules: a list, bounded, names unique, a
// bounded timeout. Each rule is checked on each list, with its message.
func TestNamedLists(t *testing.T) {
	const head = "version: 1\nservices:\n  - name: api\n    context: api\n    port: 9090\n"
	check := func(name, extra string) string {
		return "  - {name: " + name + ", service: api, run: make" + extra + "}\n"
	}
	step := func(name, extra string) string {
		return "  - {name: " + name + ", image: tofu, dir: infra, apply: x" + extra + "}\n"
	}
	task := func(name, extra string) string {
		return "      - {name: " + name + ", command: x" + extra + "}\n"
	}
	many := func(entry func(name, extra string) string, n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(entry("e"+strings.Repeat("x", i), ""))
		}
		return b.String()
	}
	tests := []struct {
		name, in string
		want     []string
	}{
		{"checks not a list", "checks: {unit: x}\n", []string{"slipway.yaml:6: checks: must be a list of checks"}},
		{"steps not a list", "provision: {infra: x}\n", []string{"slipway.yaml:6: provision: must be a list of provisioning steps"}},
		{"tasks not a list", "    tasks: {migrate: x}\n", []string{"slipway.yaml:6: services[0].tasks: must be a list of tasks"}},
		{"too many checks", "checks:\n" + many(check, 21), []string{"slipway.yaml:7: checks: at most 20 checks"}},
		{"too many steps", "provision:\n" + many(step, 11), []string{"slipway.yaml:7: provision: at most 10 provisioning steps"}},
		{"too many tasks", "    tasks:\n" + many(task, 11), []string{"slipway.yaml:7: services[0].tasks: at most 10 tasks"}},
		{"duplicate check", "checks:\n" + check("a", "") + check("b", "") + check("a", ""), []string{`slipway.yaml:9: checks[2].name: duplicate check name "a"`}},
		{"duplicate step", "provision:\n" + step("a", "") + step("b", "") + step("a", ""), []string{`slipway.yaml:9: provision[2].name: duplicate provisioning step "a"`}},
		{"duplicate task", "    tasks:\n" + task("a", "") + task("b", "") + task("a", ""), []string{`slipway.yaml:9: services[0].tasks[2].name: duplicate task name "a"`}},
		{"a bad entry is no name taken", "checks:\n" + check("a", ", timeout: soon") + check("a", ""), []string{"slipway.yaml:7: checks[0].timeout: must be a duration between 1s and 2h0m0s, such as 5m"}},
		{"check under 1s", "checks:\n" + check("a", ", timeout: 500ms"), []string{"slipway.yaml:7: checks[0].timeout: must be a duration between 1s and 2h0m0s, such as 5m"}},
		{"step under 1s", "provision:\n" + step("a", ", timeout: 500ms"), []string{"slipway.yaml:7: provision[0].timeout: must be a duration between 1s and 2h0m0s, such as 10m"}},
		{"task of no time", "    tasks:\n" + task("a", ", timeout: 0s"), []string{"slipway.yaml:7: services[0].tasks[0].timeout: must be a duration between 1s and 2h0m0s, such as 5m"}},
		{"step timeout not a string", "provision:\n" + step("a", ", timeout: [1m]"), []string{"slipway.yaml:7: provision[0].timeout: must be a string"}},
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

// TestNamedListTimeouts: a timeout within the bounds is kept, an absent
// one is the default, and a task (unlike a check or a step) takes one
// under a second.
func TestNamedListTimeouts(t *testing.T) {
	m, err := manifest.Parse([]byte(`version: 1
services:
  - name: api
    context: api
    port: 9090
    tasks:
      - {name: quick, command: x, timeout: 500ms}
      - {name: plain, command: x}
checks:
  - {name: unit, service: api, run: make, timeout: 2h}
provision:
  - {name: infra, image: tofu, dir: infra, apply: x, timeout: 1s}
  - {name: other, image: tofu, dir: infra, apply: x}
`))
	if err != nil {
		t.Fatal(err)
	}
	tasks := m.Services()[0].Tasks
	if len(tasks) != 2 || tasks[0].Timeout != 500*time.Millisecond || tasks[1].Timeout != manifest.DefaultTaskTimeout {
		t.Errorf("tasks = %+v, want 500ms and the default", tasks)
	}
	if c := m.Checks(); len(c) != 1 || c[0].Timeout != 2*time.Hour {
		t.Errorf("checks = %+v, want one of 2h", c)
	}
	steps := m.Provision("production")
	if len(steps) != 2 || steps[0].Timeout != time.Second || steps[1].Timeout != manifest.DefaultProvisionTimeout {
		t.Errorf("steps = %+v, want 1s and the default", steps)
	}
}
