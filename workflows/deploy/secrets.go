package deploy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/events"
)

// Secret is the value of one secret of an environment, opened at deploy
// time, and its version (the store's revision): containers get the value
// as an environment variable, their labels and every record get the name
// and version only. Its String, GoString and JSON forms hold no value, so
// a Secret logged or marshalled by mistake leaks nothing.
type Secret struct {
	Name    string
	Version uint64
	value   string
}

// NewSecret returns the secret name at version holding value.
func NewSecret(name string, version uint64, value string) Secret {
	return Secret{Name: name, Version: version, value: value}
}

// Value is the secret's value, for the container's environment only.
func (s Secret) Value() string { return s.value }

// String names the secret and its version, never its value.
func (s Secret) String() string { return fmt.Sprintf("%s@%d", s.Name, s.Version) }

// GoString is String, so %#v shows no value either.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON marshals the name and version only.
func (s Secret) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"name":%q,"version":%d}`, s.Name, s.Version), nil
}

// Secrets opens the secrets an environment's services reference by name.
type Secrets interface {
	// Open returns the named secrets of repo, at their latest version, in
	// the order of names: each the first set of envs (an environment, then
	// the template of a preview). A secret set in none is an
	// events.Permanent error naming it; one that cannot be opened (the key
	// is not the one it was sealed for) a permanent error naming it and
	// the key, never a value.
	Open(ctx context.Context, repo string, envs []string, names []string) ([]Secret, error)
}

// secretScopes are the environments whose secrets a deploy of e gets: its
// own, and for a preview ("pr-42") then its template's ("pr"), so that
// one secret serves every preview.
func secretScopes(e *events.DeployRequested) []string {
	scopes := []string{e.Env}
	if e.Kind != events.KindPreview {
		return scopes
	}
	i := strings.LastIndexByte(e.Env, '-')
	if i <= 0 {
		return scopes
	}
	if n, err := strconv.Atoi(e.Env[i+1:]); err == nil && n > 0 {
		scopes = append(scopes, e.Env[:i])
	}
	return scopes
}

// secretNames returns the names of the secrets images reference, sorted,
// each once.
func secretNames(images []events.Image) []string {
	set := map[string]bool{}
	for _, img := range images {
		for _, n := range img.Service.Secrets {
			set[n] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// openSecrets opens the secrets e's services reference; nil when they
// reference none.
func (h *Handler) openSecrets(ctx context.Context, e *events.DeployRequested) ([]Secret, error) {
	names := secretNames(e.Images)
	if len(names) == 0 {
		return nil, nil
	}
	if h.Secrets == nil {
		return nil, events.Permanent(fmt.Errorf("secrets %v are referenced, but this deployer has no secrets store", names))
	}
	secrets, err := h.Secrets.Open(ctx, e.Repo.FullName, secretScopes(e), names)
	if err != nil {
		return nil, err
	}
	for _, s := range secrets {
		if least := e.Secrets[s.Name]; s.Version < least {
			// A replica of the bucket behind the write the request follows.
			return nil, events.Retryable(fmt.Errorf("secret %s read at version %d, the request needs %d", s.Name, s.Version, least), time.Second)
		}
	}
	return secrets, nil
}

// versions returns the versions of secrets by name, for the deploy's
// result; nil for none.
func versions(secrets []Secret) map[string]uint64 {
	if len(secrets) == 0 {
		return nil
	}
	out := make(map[string]uint64, len(secrets))
	for _, s := range secrets {
		out[s.Name] = s.Version
	}
	return out
}

// SecretVersions returns the versions of the secrets service s references, by
// name, out of secrets: what a target records on the service's
// containers (ServiceState.Secrets) so that a changed secret is seen.
func SecretVersions(s events.ServiceSpec, secrets []Secret) map[string]uint64 {
	if len(s.Secrets) == 0 {
		return nil
	}
	out := make(map[string]uint64, len(s.Secrets))
	for _, n := range s.Secrets {
		for _, sec := range secrets {
			if sec.Name == n {
				out[n] = sec.Version
			}
		}
	}
	return out
}

// ServiceSecrets returns the secrets service s references out of secrets, sorted by
// name.
func ServiceSecrets(s events.ServiceSpec, secrets []Secret) []Secret {
	var out []Secret
	for _, sec := range secrets {
		if slices.Contains(s.Secrets, sec.Name) {
			out = append(out, sec)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
