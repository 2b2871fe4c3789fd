package manifest

import (
	"fmt"
	"path"

	"go.yaml.in/yaml/v3"

	"github.com/slipway-dev/slipway/events"
)

// manifest decodes the root mapping.
func (d *decoder) manifest(n *yaml.Node) *Manifest {
	m := &Manifest{}
	f, ok := d.mapping("", n, "version", "services", "environments", "checks", "differs", "provision")
	if !ok {
		return m
	}
	if v, ok := f.get("version"); !ok {
		d.fail("version", n, "required (use %d)", Version)
	} else if ver, ok := d.integer("version", v.value); ok {
		m.Version = int(ver)
		if ver != Version {
			d.fail("version", v.value, "unsupported version %d (want %d)", ver, Version)
		}
	}
	if v, ok := f.get("services"); !ok {
		d.fail("services", n, "required")
	} else {
		m.services = d.services(v.value)
	}
	if v, ok := f.get("environments"); ok {
		m.environments = d.environments(v.value, m.services)
	}
	if v, ok := f.get("checks"); ok {
		m.checks = d.checks(v.value, m.services)
	}
	if v, ok := f.get("differs"); ok {
		m.differs = d.differs(v.value)
	}
	if v, ok := f.get("provision"); ok {
		m.provision = d.provision(v.value, m.environments)
	}
	d.secretConflicts(m.services, m.environments)
	return m
}

// MaxServices is the most services one slipway.yaml may declare. Every
// service is one build request and one entry of each commit's events, so the
// bound keeps what one push publishes bounded.
const MaxServices = 200

// services decodes the list of services and checks their names are unique.
func (d *decoder) services(n *yaml.Node) []service {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		d.fail("services", n, "must be a list")
		return nil
	}
	if len(n.Content) == 0 {
		d.fail("services", n, "must list at least one service")
	}
	if len(n.Content) > MaxServices {
		d.fail("services", n, "lists %d services, more than the limit of %d", len(n.Content), MaxServices)
		return nil
	}
	out := make([]service, 0, len(n.Content))
	first := map[string]int{}
	for i, item := range n.Content {
		p := fmt.Sprintf("services[%d]", i)
		s := d.service(p, item)
		out = append(out, s)
		if s.spec.Name == "" {
			continue
		}
		if j, dup := first[s.spec.Name]; dup {
			d.fail(p+".name", s.nameNode, "duplicate service name %q (first used by services[%d])", s.spec.Name, j)
			continue
		}
		first[s.spec.Name] = i
	}
	return out
}

// service decodes one service, applying defaults.
func (d *decoder) service(p string, n *yaml.Node) service {
	s := service{spec: events.ServiceSpec{Dockerfile: DefaultDockerfile, HealthPath: DefaultHealthPath}}
	f, ok := d.mapping(p, n, "name", "context", "dockerfile", "port", "health", "env", "secrets", "tasks", "network", "resources", "user", "inputs")
	if !ok {
		return s
	}
	n = resolve(n)
	s.contextLine, s.dockerfileLine = n.Line, n.Line
	if v, ok := d.required(p, n, f, "name"); ok {
		s.nameNode = v.value
		s.spec.Name = d.checked(p+".name", v.value, checkName)
	}
	if v, ok := d.required(p, n, f, "context"); ok {
		s.spec.Context, s.contextLine = d.relPath(p+".context", v.value), v.value.Line
		s.dockerfileLine = s.contextLine
	}
	if v, ok := f.get("dockerfile"); ok {
		s.spec.Dockerfile, s.dockerfileLine = d.relPath(p+".dockerfile", v.value), v.value.Line
	}
	if v, ok := d.required(p, n, f, "port"); ok {
		s.spec.Port = d.port(p+".port", v.value)
	}
	if v, ok := f.get("health"); ok {
		s.spec.HealthPath = d.checked(p+".health", v.value, checkHealth)
	}
	if v, ok := f.get("env"); ok {
		s.spec.Env = d.env(p+".env", v.value)
	}
	if v, ok := f.get("secrets"); ok {
		s.spec.Secrets = d.secrets(p+".secrets", v.value)
	}
	if v, ok := f.get("tasks"); ok {
		s.spec.Tasks = d.tasks(p+".tasks", v.value)
	}
	if v, ok := f.get("network"); ok {
		s.spec.Network = d.boolean(p+".network", v.value)
	}
	if v, ok := f.get("resources"); ok {
		s.spec.Resources = d.resources(p+".resources", v.value)
	}
	if v, ok := f.get("user"); ok {
		s.spec.User = d.user(p+".user", v.value)
	}
	if v, ok := f.get("inputs"); ok && s.spec.Context != "" {
		s.spec.Inputs = d.inputs(p+".inputs", v.value, s.spec.Context)
	}
	return s
}

// required returns the field called name, recording its absence.
func (d *decoder) required(p string, parent *yaml.Node, f fields, name string) (field, bool) {
	v, ok := f.get(name)
	if !ok {
		d.fail(join(p, name), parent, "required")
	}
	return v, ok
}

// checked decodes a string and checks it with rule; it returns "" when
// either fails.
func (d *decoder) checked(p string, n *yaml.Node, rule func(string) string) string {
	s, ok := d.str(p, n)
	if !ok {
		return ""
	}
	if msg := rule(s); msg != "" {
		d.fail(p, n, "%s", msg)
		return ""
	}
	return s
}

// relPath decodes a relative path inside the repository, cleaned.
func (d *decoder) relPath(p string, n *yaml.Node) string {
	s := d.checked(p, n, checkRelPath)
	if s == "" {
		return ""
	}
	return path.Clean(s)
}

// port decodes a container port.
func (d *decoder) port(p string, n *yaml.Node) int {
	v, ok := d.integer(p, n)
	if !ok {
		return 0
	}
	if v < 1 || v > 65535 {
		d.fail(p, n, "must be between 1 and 65535")
		return 0
	}
	return int(v)
}

// env decodes the environment mapping; null is an empty environment.
func (d *decoder) env(p string, n *yaml.Node) map[string]string {
	if r := resolve(n); r != nil && r.ShortTag() == "!!null" {
		return nil
	}
	f, _ := d.mapping(p, n)
	if len(f) == 0 {
		return nil
	}
	env := make(map[string]string, len(f))
	for _, v := range f {
		kp := join(p, v.name)
		if msg := checkEnvName(v.name); msg != "" {
			d.fail(kp, v.key, "%s", msg)
			continue
		}
		val, ok := d.envValue(kp, v.value)
		if !ok {
			continue
		}
		if msg := checkEnvValue(v.name, val); msg != "" {
			d.fail(kp, v.value, "%s", msg)
			continue
		}
		env[v.name] = val
	}
	return env
}
