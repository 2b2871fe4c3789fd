package docker

import (
	"sort"
	"strconv"
	"strings"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
)

// LabelSecrets records on a container the versions of the secrets it got,
// "NAME=<version>,…" sorted by name: a changed secret makes the next deploy
// of the same commit replace it. Never a value, nor a hash of one.
const LabelSecrets = "slipway.secrets"

// secretEnv returns the variables of the secrets service s references
// in d, sorted by name.
func secretEnv(d deploy.Deployment, s events.ServiceSpec) []string {
	var env []string
	for _, sec := range deploy.ServiceSecrets(s, d.Secrets) {
		env = append(env, sec.Name+"="+sec.Value())
	}
	return env
}

// secretsLabel is the value of LabelSecrets for service s in d, "" when it
// references none (target.SecretsKey).
func secretsLabel(d deploy.Deployment, s events.ServiceSpec) string {
	return target.SecretsKey(d, s)
}

// parseSecretsLabel reads LabelSecrets back; nil when the container got no
// secret. A malformed entry reads as version 0, which no secret has, so
// the next deploy replaces the container.
func parseSecretsLabel(l string) map[string]uint64 {
	if l == "" {
		return nil
	}
	out := map[string]uint64{}
	for _, part := range strings.Split(l, ",") {
		name, v, _ := strings.Cut(part, "=")
		n, _ := strconv.ParseUint(v, 10, 64)
		out[name] = n
	}
	return out
}

// redact replaces in text, a container's output, every value of secrets
// with "[secret NAME]": a service that prints its environment does not
// put a secret into a deploy-failed reason or a task's output.
func redact(text string, secrets []deploy.Secret) string {
	// Longest first, so that a value containing another is replaced whole.
	sorted := append([]deploy.Secret(nil), secrets...)
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i].Value()) > len(sorted[j].Value()) })
	for _, s := range sorted {
		if s.Value() != "" {
			text = strings.ReplaceAll(text, s.Value(), "[secret "+s.Name+"]")
		}
	}
	return text
}
