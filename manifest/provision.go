package manifest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slipway-dev/slipway/events"
)

// Limits of provisioning steps.
const (
	DefaultProvisionTimeout = 15 * time.Minute
	maxProvisionTimeout     = 2 * time.Hour
	maxProvisionSteps       = 10
)

// provision decodes the provisioning steps, run for every environment
// they name (every declared one when they name none):
//
//	provision:
//	  - name: infra
//	    image: localhost:5000/mirror/tofu:1.10.6
//	    dir: infra                          # copied to the working directory
//	    plan: [tofu, plan, -no-color, -input=false, -state=/state/terraform.tfstate]
//	    apply: [tofu, apply, -no-color, -input=false, -auto-approve, -state=/state/terraform.tfstate]
//	    environments: [staging, production] # default: every environment
//	    network: false                      # default: no network
//	    secrets: [CLOUD_TOKEN]              # the environment's, by name
//	    timeout: 10m                        # default 15m, per run
func (d *decoder) provision(n *yaml.Node, envs []Environment) []events.ProvisionStep {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		d.fail("provision", n, "must be a list of provisioning steps")
		return nil
	}
	if len(n.Content) > maxProvisionSteps {
		d.fail("provision", n, "at most %d provisioning steps", maxProvisionSteps)
		return nil
	}
	var out []events.ProvisionStep
	for i, item := range n.Content {
		p := fmt.Sprintf("provision[%d]", i)
		s, ok := d.provisionStep(p, item, envs)
		if !ok {
			continue
		}
		if slices.ContainsFunc(out, func(o events.ProvisionStep) bool { return o.Name == s.Name }) {
			d.fail(p+".name", item, "duplicate provisioning step %q", s.Name)
			continue
		}
		out = append(out, s)
	}
	return out
}

// provisionStep decodes one provisioning step.
func (d *decoder) provisionStep(p string, n *yaml.Node, envs []Environment) (events.ProvisionStep, bool) {
	s := events.ProvisionStep{Timeout: DefaultProvisionTimeout}
	f, ok := d.mapping(p, n, "name", "image", "dir", "plan", "apply", "environments", "network", "secrets", "timeout")
	if !ok {
		return s, false
	}
	n = resolve(n)
	if v, ok := d.required(p, n, f, "name"); ok {
		s.Name = d.checked(p+".name", v.value, checkName)
	}
	if v, ok := d.required(p, n, f, "image"); ok {
		s.Image = d.checked(p+".image", v.value, checkImageRef)
	}
	if v, ok := d.required(p, n, f, "dir"); ok {
		s.Dir = d.relPath(p+".dir", v.value)
	}
	if v, ok := f.get("plan"); ok {
		s.Plan = d.command(p+".plan", v.value)
	}
	if v, ok := d.required(p, n, f, "apply"); ok {
		s.Apply = d.command(p+".apply", v.value)
	}
	if v, ok := f.get("environments"); ok {
		s.Environments = d.stepEnvironments(p+".environments", v.value, envs)
	}
	if v, ok := f.get("network"); ok {
		s.Network = d.boolean(p+".network", v.value)
	}
	if v, ok := f.get("secrets"); ok {
		s.Secrets = d.secrets(p+".secrets", v.value)
	}
	if v, ok := f.get("timeout"); ok {
		s.Timeout = d.stepTimeout(p+".timeout", v.value)
	}
	return s, s.Name != "" && s.Image != "" && s.Dir != "" && len(s.Apply) > 0
}

// stepEnvironments decodes the environments a step runs for: each must be
// declared (the default ones when none are).
func (d *decoder) stepEnvironments(p string, n *yaml.Node, envs []Environment) []string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		d.fail(p, n, "must be a non-empty list of environment names")
		return nil
	}
	if len(envs) == 0 {
		envs = DefaultEnvironments()
	}
	var out []string
	for i, item := range n.Content {
		ip := fmt.Sprintf("%s[%d]", p, i)
		name, ok := d.str(ip, item)
		if !ok {
			continue
		}
		if !slices.ContainsFunc(envs, func(e Environment) bool { return e.Name == name && e.Follows != FollowsPullRequests }) {
			d.fail(ip, item, "%q is no environment of this file (previews are never provisioned)", name)
			continue
		}
		out = append(out, name)
	}
	return out
}

// stepTimeout decodes the bound of one run of a step.
func (d *decoder) stepTimeout(p string, n *yaml.Node) time.Duration {
	s, ok := d.str(p, n)
	if !ok {
		return DefaultProvisionTimeout
	}
	to, err := time.ParseDuration(s)
	if err != nil || to < time.Second || to > maxProvisionTimeout {
		d.fail(p, n, "must be a duration between 1s and %s, such as 10m", maxProvisionTimeout)
		return DefaultProvisionTimeout
	}
	return to
}

// checkImageRef returns what is wrong with an image reference, or "": the
// registry checks the rest when the target pulls it.
func checkImageRef(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case len(s) > 512:
		return "must be at most 512 characters"
	case strings.ContainsAny(s, " \t\r\n") || hasControl(s):
		return "must not contain spaces or control characters"
	}
	return ""
}

// Provision returns the provisioning steps that run for the environment
// called env, in declaration order: none for a preview.
func (m *Manifest) Provision(env string) []events.ProvisionStep {
	e, ok := m.Environment(env)
	if !ok || e.Follows == FollowsPullRequests || e.Name != env {
		return nil
	}
	var out []events.ProvisionStep
	for _, s := range m.provision {
		if len(s.Environments) > 0 && !slices.Contains(s.Environments, env) {
			continue
		}
		s.Plan, s.Apply = slices.Clone(s.Plan), slices.Clone(s.Apply)
		s.Environments, s.Secrets = slices.Clone(s.Environments), slices.Clone(s.Secrets)
		out = append(out, s)
	}
	return out
}
