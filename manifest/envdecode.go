package manifest

import (
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Limits of the values an environment may declare.
const (
	maxReplicas = 100
	maxKeep     = 1000
	maxRetain   = 50
)

// environments decodes the environments mapping; services are the decoded
// services, which overrides must name.
func (d *decoder) environments(n *yaml.Node, services []service) []Environment {
	if r := resolve(n); r == nil || r.Kind != yaml.MappingNode {
		d.fail("environments", n, "must be a mapping of environment names")
		return nil
	}
	fs, _ := d.mapping("environments", n)
	if len(fs) == 0 {
		d.fail("environments", n, "must declare at least one environment")
		return nil
	}
	known := map[string]bool{}
	for _, s := range services {
		known[s.spec.Name] = true
	}
	var out []Environment
	previews := ""
	for _, f := range fs {
		p := join("environments", f.name)
		if msg := checkName(f.name); msg != "" {
			d.fail(p, f.key, "%s", msg)
			continue
		}
		if strings.Contains(f.name, reservedEnvNameSeparator) {
			d.fail(p, f.key, "must not contain %q: a rollout runs the new commit beside the old one as <env>--canary", reservedEnvNameSeparator)
			continue
		}
		e := d.environment(p, f.name, f.value, known)
		if e.Follows == FollowsPullRequests {
			if previews != "" {
				d.fail(p+".previews", f.key, "only one environment may hold previews (%s does)", previews)
			}
			previews = f.name
		}
		out = append(out, e)
	}
	return out
}

// environment decodes one environment.
func (d *decoder) environment(p, name string, n *yaml.Node, services map[string]bool) Environment {
	e := Environment{Name: name, Follows: FollowsBranch, Keep: DefaultKeepCommits, Retain: DefaultRetain}
	if r := resolve(n); r != nil && r.ShortTag() == "!!null" {
		return e
	}
	f, ok := d.mapping(p, n, "branch", "pin", "previews", "ttl", "keep", "retain", "services", "target", "release_previews", "rollout")
	if !ok {
		return e
	}
	var set []string
	if v, ok := f.get("branch"); ok {
		e.Branch = d.checked(p+".branch", v.value, checkBranch)
		set = append(set, "branch")
	}
	if v, ok := f.get("pin"); ok {
		e.Follows, e.Pin = FollowsPin, d.relPath(p+".pin", v.value)
		set = append(set, "pin")
	}
	if v, ok := f.get("previews"); ok && d.boolean(p+".previews", v.value) {
		e.Follows, e.Keep, e.Retain = FollowsPullRequests, 1, 1
		set = append(set, "previews")
	}
	if len(set) > 1 {
		d.fail(p, n, "declares %s: an environment follows one of branch, pin or previews", strings.Join(set, " and "))
	}
	if v, ok := f.get("ttl"); ok {
		e.TTL = d.ttl(p+".ttl", v.value, e.Follows == FollowsPullRequests)
	}
	if v, ok := f.get("keep"); ok {
		e.Keep = d.keep(p+".keep", v.value)
	}
	if v, ok := f.get("retain"); ok {
		e.Retain = d.retain(p+".retain", v.value)
	}
	if v, ok := f.get("release_previews"); ok {
		if e.ReleasePreviews = d.boolean(p+".release_previews", v.value); e.Follows != FollowsPullRequests {
			d.fail(p+".release_previews", v.value, "only an environment with previews: true previews releases")
		}
	}
	if v, ok := f.get("services"); ok {
		e.Services = d.overrides(p+".services", v.value, services)
	}
	if v, ok := f.get("target"); ok {
		e.Target = d.checked(p+".target", v.value, checkName)
	}
	if v, ok := f.get("rollout"); ok {
		e.Rollout = d.rollout(p+".rollout", v.value)
	}
	if e.Follows == FollowsPullRequests && e.TTL == 0 {
		e.TTL = DefaultPreviewTTL
	}
	return e
}

// ttl decodes the idle time after which a preview is removed.
func (d *decoder) ttl(p string, n *yaml.Node, previews bool) time.Duration {
	if !previews {
		d.fail(p, n, "only an environment with previews: true has a ttl")
		return 0
	}
	s, ok := d.str(p, n)
	if !ok {
		return 0
	}
	ttl, err := time.ParseDuration(s)
	if err != nil || ttl <= 0 {
		d.fail(p, n, "must be a positive duration such as 72h")
		return 0
	}
	return ttl
}

// keep decodes how many commits keep their images.
func (d *decoder) keep(p string, n *yaml.Node) int {
	v, ok := d.integer(p, n)
	if !ok {
		return DefaultKeepCommits
	}
	if v < 1 || v > maxKeep {
		d.fail(p, n, "must be between 1 and %d", maxKeep)
		return DefaultKeepCommits
	}
	return int(v)
}

// retain decodes how many earlier releases keep their containers.
func (d *decoder) retain(p string, n *yaml.Node) int {
	v, ok := d.integer(p, n)
	if !ok {
		return DefaultRetain
	}
	if v < 1 || v > maxRetain {
		d.fail(p, n, "must be between 1 and %d", maxRetain)
		return DefaultRetain
	}
	return int(v)
}

// overrides decodes the per-service values of an environment.
func (d *decoder) overrides(p string, n *yaml.Node, services map[string]bool) map[string]Override {
	fs, ok := d.mapping(p, n)
	if !ok {
		return nil
	}
	out := make(map[string]Override, len(fs))
	for _, f := range fs {
		sp := join(p, f.name)
		if !services[f.name] {
			d.fail(sp, f.key, "no service %q is declared", f.name)
			continue
		}
		out[f.name] = d.override(sp, f.value)
	}
	return out
}

// override decodes what an environment changes of one service.
func (d *decoder) override(p string, n *yaml.Node) Override {
	var o Override
	f, ok := d.mapping(p, n, "env", "secrets", "replicas", "hosts")
	if !ok {
		return o
	}
	if v, ok := f.get("env"); ok {
		o.Env = d.env(p+".env", v.value)
	}
	if v, ok := f.get("secrets"); ok {
		o.Secrets = d.secrets(p+".secrets", v.value)
	}
	if v, ok := f.get("replicas"); ok {
		if r, ok := d.integer(p+".replicas", v.value); ok {
			if r < 1 || r > maxReplicas {
				d.fail(p+".replicas", v.value, "must be between 1 and %d", maxReplicas)
			} else {
				o.Replicas = int(r)
			}
		}
	}
	if v, ok := f.get("hosts"); ok {
		o.Hosts = d.hosts(p+".hosts", v.value)
	}
	return o
}

// hosts decodes a list of host names.
func (d *decoder) hosts(p string, n *yaml.Node) []string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		d.fail(p, n, "must be a list of host names")
		return nil
	}
	var out []string
	for i, item := range n.Content {
		if h := d.checked(p+"["+strconv.Itoa(i)+"]", item, checkHost); h != "" {
			out = append(out, strings.ToLower(h))
		}
	}
	return out
}

// boolean decodes a boolean scalar.
func (d *decoder) boolean(path string, n *yaml.Node) bool {
	n = resolve(n)
	var v bool
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&v) != nil {
		d.fail(path, n, "must be true or false")
		return false
	}
	return v
}

// checkBranch returns what is wrong with a branch name, or "".
func checkBranch(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case strings.HasPrefix(s, "-") || strings.HasPrefix(s, "refs/"):
		return `must be a branch name such as "main" (no "refs/", no leading "-")`
	case strings.ContainsAny(s, " ~^:?*[\\") || hasControl(s) || strings.Contains(s, ".."):
		return "is not a valid git branch name"
	}
	return ""
}

// checkHost returns what is wrong with a host name, or "".
func checkHost(s string) string {
	if s == "" || len(s) > 253 {
		return "must be a host name of 1 to 253 characters"
	}
	for _, label := range strings.Split(strings.ToLower(s), ".") {
		if label == "" || len(label) > 63 || strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" ||
			label[0] == '-' || label[len(label)-1] == '-' {
			return "must be a host name such as shop.example.com"
		}
	}
	return ""
}
