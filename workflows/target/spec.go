package target

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/slipway-dev/slipway/events"
)

// Spec is one target the operator configured: a line
// "target <name> <kind> [<endpoint>,...] [<key>=<value> ...]" of a targets
// file, e.g. "target prod-hosts docker ssh://deploy@app1.example.com,ssh://deploy@app2.example.com"
// or "target cluster kubernetes kubeconfig=/etc/slipway/kubeconfig namespace=shop".
type Spec struct {
	Name string
	// Kind says which implementation runs it: "docker", "swarm",
	// "kubernetes" (the wiring's registry of kinds).
	Kind string
	// Endpoints are where the target is reached, in the order given
	// (hosts, managers); empty for a kind that takes none.
	Endpoints []string
	// Options are the key=value settings of the line, for the kind to read
	// and refuse those it does not know.
	Options map[string]string
	// Source and Line say where it was declared, for errors; a flag's
	// target has no line.
	Source string
	Line   int
}

// Redact returns endpoint (or a comma-separated list of them) with the
// password of each URL replaced by "xxxxx": what an error or a log may show
// of an endpoint. A part that is no URL but holds "user:secret@" loses all
// before its "@".
func Redact(endpoint string) string {
	parts := strings.Split(endpoint, ",")
	for i, p := range parts {
		u, err := url.Parse(p)
		switch at := strings.LastIndex(p, "@"); {
		case err == nil && u.User != nil:
			parts[i] = u.Redacted()
		case err != nil && at >= 0:
			parts[i] = "xxxxx" + p[at:]
		}
	}
	return strings.Join(parts, ",")
}

// Where returns where s was declared: "targets.conf:3", "-target".
func (s Spec) Where() string {
	if s.Line == 0 {
		return s.Source
	}
	return fmt.Sprintf("%s:%d", s.Source, s.Line)
}

// Rule lets repositories and environments use a target: a line
// "allow <target> <owner/name|owner/*|*> [<env> ...]". A target with rules
// is open only to what one of them names; a target without is open to
// every repository and environment. No environment listed means all of
// them; "<template>-*" names the previews of a template ("pr-*": pr-1,
// pr-2, ...), never an environment of another name.
type Rule struct {
	Target string
	Repo   string
	Envs   []string
	Source string
	Line   int
}

// Where returns where r was declared.
func (r Rule) Where() string {
	return Spec{Source: r.Source, Line: r.Line}.Where()
}

// Allows reports whether r lets env of repo use its target.
func (r Rule) Allows(repo, env string) bool {
	owner, _, _ := strings.Cut(repo, "/")
	switch {
	case r.Repo == "*", r.Repo == repo, strings.HasSuffix(r.Repo, "/*") && strings.TrimSuffix(r.Repo, "/*") == owner:
	default:
		return false
	}
	return len(r.Envs) == 0 || slices.ContainsFunc(r.Envs, func(e string) bool { return envMatches(e, env) })
}

// envMatches reports whether env is pattern, or a preview "<template>-<n>"
// of a pattern "<template>-*".
func envMatches(pattern, env string) bool {
	template, previews := strings.CutSuffix(pattern, "-*")
	if !previews {
		return pattern == env
	}
	n, ok := strings.CutPrefix(env, template+"-")
	return ok && n != "" && n[0] != '0' && strings.Trim(n, "0123456789") == ""
}

// Config is the operator's placement: the targets and who may use them.
type Config struct {
	Targets []Spec
	Rules   []Rule
}

var (
	// nameRe is a target's name: lower-case letters, digits and "-", at
	// most 40 (manifest's rule for the names slipway.yaml gives).
	nameRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`)
	// optionRe is a key=value option.
	optionRe = regexp.MustCompile(`^[a-z][a-z0-9_-]*=`)
	// repoRe is a repository pattern of an allow line.
	repoRe = regexp.MustCompile(`^(\*|[A-Za-z0-9_.-]+/(\*|[A-Za-z0-9_.-]+))$`)
	// envRe is an environment name of an allow line.
	envRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*(-\*)?$`)
)

// Parse reads a targets file from r; source names it in errors. Blank
// lines and lines starting with "#" are skipped. Every bad line is an
// error naming its line; Parse reports all of them at once.
func Parse(r io.Reader, source string) (Config, error) {
	var cfg Config
	var errs []error
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		var err error
		switch fields[0] {
		case "target":
			var s Spec
			if s, err = ParseSpec(fields[1:]); err == nil {
				s.Source, s.Line = source, n
				cfg.Targets = append(cfg.Targets, s)
			}
		case "allow":
			var rule Rule
			if rule, err = parseRule(fields[1:]); err == nil {
				rule.Source, rule.Line = source, n
				cfg.Rules = append(cfg.Rules, rule)
			}
		default:
			err = fmt.Errorf("unknown directive %q (want target or allow)", fields[0])
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", source, n, err))
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("read %s: %w", source, err))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// ParseSpec parses the fields of a target line after "target": name, kind,
// then an endpoint list and options in any order.
func ParseSpec(fields []string) (Spec, error) {
	if len(fields) < 2 {
		return Spec{}, errors.New(`want "target <name> <kind> [<endpoint>,...] [<key>=<value> ...]"`)
	}
	s := Spec{Name: fields[0], Kind: fields[1], Options: map[string]string{}}
	if !nameRe.MatchString(s.Name) {
		return Spec{}, fmt.Errorf("target name %q: want lower-case letters, digits and '-'", s.Name)
	}
	if !nameRe.MatchString(s.Kind) {
		return Spec{}, fmt.Errorf("target %s: kind %q: want a word such as docker, swarm or kubernetes", s.Name, s.Kind)
	}
	for _, f := range fields[2:] {
		if optionRe.MatchString(f) && !strings.Contains(f[:strings.IndexByte(f, '=')], "://") {
			k, v, _ := strings.Cut(f, "=")
			if _, dup := s.Options[k]; dup {
				return Spec{}, fmt.Errorf("target %s: option %s given twice", s.Name, k)
			}
			s.Options[k] = v
			continue
		}
		if s.Endpoints != nil {
			return Spec{}, fmt.Errorf("target %s: a second endpoint list %q (separate endpoints with ',')", s.Name, Redact(f))
		}
		for _, e := range strings.Split(f, ",") {
			if e == "" {
				return Spec{}, fmt.Errorf("target %s: empty endpoint in %q", s.Name, Redact(f))
			}
			if slices.Contains(s.Endpoints, e) {
				return Spec{}, fmt.Errorf("target %s: endpoint %s given twice", s.Name, Redact(e))
			}
			s.Endpoints = append(s.Endpoints, e)
		}
	}
	return s, nil
}

// parseRule parses the fields of an allow line after "allow".
func parseRule(fields []string) (Rule, error) {
	if len(fields) < 2 {
		return Rule{}, errors.New(`want "allow <target> <owner/name|owner/*|*> [<env> ...]"`)
	}
	r := Rule{Target: fields[0], Repo: fields[1], Envs: fields[2:]}
	if !nameRe.MatchString(r.Target) {
		return Rule{}, fmt.Errorf("allow: target name %q: want lower-case letters, digits and '-'", r.Target)
	}
	if !repoRe.MatchString(r.Repo) {
		return Rule{}, fmt.Errorf("allow %s: repository %q: want owner/name, owner/* or *", r.Target, r.Repo)
	}
	for _, e := range r.Envs {
		if !envRe.MatchString(e) {
			return Rule{}, fmt.Errorf("allow %s: environment %q: want letters, digits, '-' and '_', or <template>-* for previews", r.Target, e)
		}
	}
	return r, nil
}

// Validate reports a configuration that cannot work: two targets of one
// name, a target named "local" (it is always the deployer's own daemon), a
// rule for a target no line declares.
func (c Config) Validate() error {
	var errs []error
	seen := map[string]Spec{}
	for _, s := range c.Targets {
		if s.Name == events.LocalTarget {
			errs = append(errs, fmt.Errorf("%s: target %s is the deployer's own Docker daemon and always configured; name yours otherwise", s.Where(), s.Name))
			continue
		}
		if prev, ok := seen[s.Name]; ok {
			errs = append(errs, fmt.Errorf("%s: target %s declared again (first at %s)", s.Where(), s.Name, prev.Where()))
			continue
		}
		seen[s.Name] = s
	}
	endpoints := map[string]string{}
	for _, s := range c.Targets {
		for _, e := range s.Endpoints {
			if other, ok := endpoints[e]; ok && other != s.Name {
				errs = append(errs, fmt.Errorf("%s: target %s: endpoint %s is target %s's too: two targets on one host would remove each other's environments", s.Where(), s.Name, Redact(e), other))
			}
			endpoints[e] = s.Name
		}
	}
	for _, r := range c.Rules {
		if _, ok := seen[r.Target]; !ok && r.Target != events.LocalTarget {
			errs = append(errs, fmt.Errorf("%s: allow names target %s, which no target line declares", r.Where(), r.Target))
		}
	}
	return errors.Join(errs...)
}
