package manifest

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slipway-dev/slipway/events"
)

// Limits of checks.
const (
	DefaultCheckTimeout = 10 * time.Minute
	maxCheckTimeout     = 2 * time.Hour
	maxChecks           = 20
)

// checks decodes the commit's checks:
//
//	checks:
//	  - name: unit
//	    service: api             # whose Dockerfile is built
//	    run: go test ./...       # a shell command, the stage's last RUN
//	    target: test             # a stage of that Dockerfile; default its last
//	    network: false           # RUN without network unless true
//	    timeout: 5m              # default 10m
func (d *decoder) checks(n *yaml.Node, services []service) []events.Check {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		d.fail("checks", n, "must be a list of checks")
		return nil
	}
	if len(n.Content) > maxChecks {
		d.fail("checks", n, "at most %d checks", maxChecks)
		return nil
	}
	var out []events.Check
	seen := map[string]bool{}
	for i, item := range n.Content {
		p := fmt.Sprintf("checks[%d]", i)
		c, ok := d.check(p, item, services)
		if !ok {
			continue
		}
		if seen[c.Name] {
			d.fail(p+".name", item, "duplicate check name %q", c.Name)
			continue
		}
		seen[c.Name] = true
		out = append(out, c)
	}
	return out
}

// check decodes one check.
func (d *decoder) check(p string, n *yaml.Node, services []service) (events.Check, bool) {
	c := events.Check{Timeout: DefaultCheckTimeout}
	f, ok := d.mapping(p, n, "name", "service", "run", "target", "network", "timeout")
	if !ok {
		return c, false
	}
	n = resolve(n)
	if v, ok := d.required(p, n, f, "name"); ok {
		c.Name = d.checked(p+".name", v.value, checkName)
	}
	if v, ok := d.required(p, n, f, "service"); ok {
		if s, ok := d.str(p+".service", v.value); ok && !declared(services, s) {
			d.fail(p+".service", v.value, "names no service of this file")
		} else {
			c.Service = s
		}
	}
	if v, ok := d.required(p, n, f, "run"); ok {
		c.Run = d.runLine(p+".run", v.value)
	}
	if v, ok := f.get("target"); ok {
		c.Target = d.checked(p+".target", v.value, checkName)
	}
	if v, ok := f.get("network"); ok {
		c.Network = d.boolean(p+".network", v.value)
	}
	if v, ok := f.get("timeout"); ok {
		c.Timeout = d.checkTimeout(p+".timeout", v.value)
	}
	return c, c.Name != "" && c.Service != "" && c.Run != "" && c.Timeout > 0
}

// runLine decodes the command of a check: one line of shell.
func (d *decoder) runLine(p string, n *yaml.Node) string {
	s, ok := d.str(p, n)
	if !ok {
		return ""
	}
	for _, r := range s {
		if r == 0 || r == '\n' || r == '\r' {
			d.fail(p, n, "must be one line of shell (no newline, no NUL byte)")
			return ""
		}
	}
	if s == "" {
		d.fail(p, n, "must not be empty")
	}
	return s
}

// checkTimeout decodes the timeout of a check.
func (d *decoder) checkTimeout(p string, n *yaml.Node) time.Duration {
	s, ok := d.str(p, n)
	if !ok {
		return 0
	}
	to, err := time.ParseDuration(s)
	if err != nil || to < time.Second || to > maxCheckTimeout {
		d.fail(p, n, "must be a duration between 1s and %s, such as 5m", maxCheckTimeout)
		return 0
	}
	return to
}

func declared(services []service, name string) bool {
	for _, s := range services {
		if s.spec.Name == name {
			return true
		}
	}
	return false
}

// Checks returns the checks of the commit in declaration order.
func (m *Manifest) Checks() []events.Check {
	return append([]events.Check(nil), m.checks...)
}
