package manifest_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
)

func TestTasks(t *testing.T) {
	m, err := manifest.Parse([]byte(`version: 1
services:
  - name: api
    context: api
    port: 9090
    tasks:
      - name: migrate
        command: ["./migrate", "up"]
        timeout: 5m
      - name: seed
        command: echo seeded > /tmp/seed
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []events.Task{
		{Name: "migrate", Command: []string{"./migrate", "up"}, Timeout: 5 * time.Minute},
		{Name: "seed", Command: []string{"sh", "-c", "echo seeded > /tmp/seed"}, Timeout: manifest.DefaultTaskTimeout},
	}
	s := m.Services()
	if !reflect.DeepEqual(s[0].Tasks, want) {
		t.Fatalf("tasks = %+v, want %+v", s[0].Tasks, want)
	}
	s[0].Tasks[0].Command[0] = "changed"
	if m.Services()[0].Tasks[0].Command[0] != "./migrate" {
		t.Error("Services() shares tasks with the caller")
	}
}

func TestTaskErrors(t *testing.T) {
	const head = "version: 1\nservices:\n  - name: api\n    context: api\n    port: 9090\n    tasks:\n"
	tests := []struct {
		name, in string
		want     []string
	}{
		{"not a list", "      migrate: x\n", []string{"slipway.yaml:7: services[0].tasks: must be a list of tasks"}},
		{"no command", "      - name: migrate\n", []string{"slipway.yaml:7: services[0].tasks[0].command: required"}},
		{"empty command", "      - {name: migrate, command: []}\n", []string{"slipway.yaml:7: services[0].tasks[0].command: must be a non-empty list of strings, or a shell command"}},
		{"bad name", "      - {name: Migrate, command: x}\n", []string{"slipway.yaml:7: services[0].tasks[0].name: must contain only lower-case letters, digits and '-'"}},
		{"duplicate", "      - {name: m, command: x}\n      - {name: m, command: y}\n", []string{`slipway.yaml:8: services[0].tasks[1].name: duplicate task name "m"`}},
		{"bad timeout", "      - {name: m, command: x, timeout: 3h}\n", []string{"slipway.yaml:7: services[0].tasks[0].timeout: must be a duration between 1s and 2h0m0s, such as 5m"}},
		{"NUL in shell command", "      - {name: m, command: \"echo \\0\"}\n", []string{"slipway.yaml:7: services[0].tasks[0].command: must not contain a NUL byte"}},
		{"NUL in argument", "      - {name: m, command: [echo, \"a\\0\"]}\n", []string{"slipway.yaml:7: services[0].tasks[0].command[1]: must not contain a NUL byte"}},
		{"unknown field", "      - {name: m, command: x, image: y}\n", []string{"slipway.yaml:7: services[0].tasks[0].image: unknown field"}},
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
