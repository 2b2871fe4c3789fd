package manifest

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slipway-dev/slipway/events"
)

// Limits of deployment tasks.
const (
	DefaultTaskTimeout = 10 * time.Minute
	maxTaskTimeout     = 2 * time.Hour
	maxTasks           = 10
)

// tasks decodes a service's deployment tasks:
//
//	tasks:
//	  - name: migrate
//	    command: ["./migrate", "up"]   # or a string, run with sh -c
//	    timeout: 5m                    # default 10m
func (d *decoder) tasks(p string, n *yaml.Node) []events.Task {
	return namedList[events.Task]{
		plural: "tasks", max: maxTasks, duplicate: "duplicate task name %q",
		entry: d.task,
		name:  func(t events.Task) string { return t.Name },
	}.decode(d, p, n)
}

// task decodes one task.
func (d *decoder) task(p string, n *yaml.Node) (events.Task, bool) {
	t := events.Task{Timeout: DefaultTaskTimeout}
	f, ok := d.mapping(p, n, "name", "command", "timeout")
	if !ok {
		return t, false
	}
	n = resolve(n)
	if v, ok := d.required(p, n, f, "name"); ok {
		t.Name = d.checked(p+".name", v.value, checkName)
	}
	if v, ok := d.required(p, n, f, "command"); ok {
		t.Command = d.command(p+".command", v.value)
	}
	if v, ok := f.get("timeout"); ok {
		// A task takes any positive duration, below 1s too.
		if to, ok := d.timeout(p+".timeout", v.value, time.Nanosecond, maxTaskTimeout, "5m"); ok {
			t.Timeout = to
		}
	}
	return t, t.Name != "" && len(t.Command) > 0
}

// command decodes a command: a list of strings, or one string run by sh -c.
func (d *decoder) command(p string, n *yaml.Node) []string {
	n = resolve(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && n.Value != "" {
		if strings.IndexByte(n.Value, 0) >= 0 {
			d.fail(p, n, "must not contain a NUL byte")
			return nil
		}
		return []string{"sh", "-c", n.Value}
	}
	if n == nil || n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		d.fail(p, n, "must be a non-empty list of strings, or a shell command")
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		ip := fmt.Sprintf("%s[%d]", p, i)
		s, ok := d.str(ip, item)
		if ok && strings.IndexByte(s, 0) >= 0 {
			d.fail(ip, item, "must not contain a NUL byte")
			ok = false
		}
		if ok {
			out = append(out, s)
		}
	}
	return out
}

func copyTasks(ts []events.Task) []events.Task {
	if ts == nil {
		return nil
	}
	out := make([]events.Task, len(ts))
	for i, t := range ts {
		out[i] = t
		out[i].Command = append([]string(nil), t.Command...)
	}
	return out
}
