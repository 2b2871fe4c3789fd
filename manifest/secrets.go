package manifest

import (
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxSecrets is the most secrets one service may reference.
const maxSecrets = 100

// CheckSecretName returns what is wrong with the name of a secret, or "":
// a secret becomes an environment variable of that name, and the names
// Slipway sets (SLIPWAY_*) are its own.
func CheckSecretName(s string) string {
	if msg := checkEnvName(s); msg != "" {
		return strings.Replace(msg, "variable name", "secret name", 1)
	}
	if strings.HasPrefix(strings.ToUpper(s), "SLIPWAY_") {
		return "secret name must not start with SLIPWAY_ (Slipway sets those variables)"
	}
	return ""
}

// secrets decodes a list of secret names ("secrets: [DATABASE_URL]").
func (d *decoder) secrets(p string, n *yaml.Node) []string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		d.fail(p, n, "must be a list of secret names")
		return nil
	}
	if len(n.Content) > maxSecrets {
		d.fail(p, n, "lists %d secrets, more than the limit of %d", len(n.Content), maxSecrets)
		return nil
	}
	var out []string
	for i, item := range n.Content {
		name := d.checked(p+"["+strconv.Itoa(i)+"]", item, CheckSecretName)
		if name == "" {
			continue
		}
		if slices.Contains(out, name) {
			d.fail(p+"["+strconv.Itoa(i)+"]", item, "secret %s is listed twice", name)
			continue
		}
		out = append(out, name)
	}
	return out
}

// secretConflicts fails every name a service gets both as a secret and in
// env:, in the service itself or in any environment: one would silently
// hide the other.
func (d *decoder) secretConflicts(services []service, envs []Environment) {
	for i, s := range services {
		for _, name := range s.spec.Secrets {
			if _, ok := s.spec.Env[name]; ok {
				d.fail("services["+strconv.Itoa(i)+"].secrets", s.nameNode, "%s is both a secret and in env", name)
			}
		}
		for _, e := range envs {
			o, ok := e.Services[s.spec.Name]
			if !ok {
				continue
			}
			for _, name := range append(slices.Clone(s.spec.Secrets), o.Secrets...) {
				_, inService := s.spec.Env[name]
				_, inEnv := o.Env[name]
				if inEnv || (inService && slices.Contains(o.Secrets, name)) {
					d.fail(join(join(join("environments", e.Name), "services"), s.spec.Name), nil,
						"%s is both a secret and in env", name)
				}
			}
		}
	}
}

// mergeSecrets returns the names of base and then those of more not in
// base.
func mergeSecrets(base, more []string) []string {
	out := slices.Clone(base)
	for _, n := range more {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// CheckEnvironment returns what is wrong with the name of an environment,
// or "" (a preview's, "pr-42", is one too).
func CheckEnvironment(s string) string { return checkName(s) }
