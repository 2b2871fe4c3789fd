package target

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// Values are what a service's instances were started with, as their target
// recorded them, that decide whether a deploy keeps them: the image by
// repository and digest, the declared service (RunSpec) and the versions of
// its secrets (SecretsKey). The commit is not among them: instances of an
// earlier commit with a deployment's values are the same service, kept
// (relabelled to the new commit) instead of restarted.
type Values struct {
	// Ref is the image reference the instances were started from; only its
	// repository counts (a reused build is tagged with each commit).
	Ref    string
	Digest string
	// Spec is RunSpec of the service they were started as.
	Spec string
	// Secrets is SecretsKey of the secrets they got.
	Secrets string
}

// ValuesOf returns the Values img of d starts its instances with.
func ValuesOf(d deploy.Deployment, img events.Image) Values {
	return Values{Ref: img.Ref, Digest: img.Digest, Spec: RunSpec(img.Service), Secrets: SecretsKey(d, img.Service)}
}

// Unchanged reports whether instances started with was run img of d as d
// declares it, so that a deploy of d keeps them: the same digest in the
// same repository, the same declared service, the same secret versions.
// It is the one rule of every target.
func Unchanged(was Values, d deploy.Deployment, img events.Image) bool {
	now := ValuesOf(d, img)
	return was.Digest != "" && was.Digest == now.Digest && Repository(was.Ref) == Repository(now.Ref) &&
		was.Spec == now.Spec && was.Secrets == now.Secrets
}

// RunSpec returns s as JSON without what only building it or its tasks
// need (context, Dockerfile, tasks, build network): what running it needs,
// replicas, port, health path, env, resources and hosts among them.
func RunSpec(s events.ServiceSpec) string {
	s.Context, s.Dockerfile, s.Tasks, s.Network = "", "", nil, false
	b, err := json.Marshal(s)
	if err != nil { // a ServiceSpec always marshals
		return ""
	}
	return string(b)
}

// SecretsKey returns the versions of the secrets service s references in
// d, "NAME=<version>,…" sorted by name, "" when it references none. Never
// a value, nor a hash of one.
func SecretsKey(d deploy.Deployment, s events.ServiceSpec) string {
	versions := deploy.SecretVersions(s, d.Secrets)
	parts := make([]string, 0, len(versions))
	for name, v := range versions {
		parts = append(parts, name+"="+strconv.FormatUint(v, 10))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// Repository returns the repository of image reference ref: ref without
// its digest and its tag ("localhost:5000/acme/web:v2@sha256:…" is
// "localhost:5000/acme/web"). A registry's port is not a tag: a tag
// follows the last "/".
func Repository(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		ref = ref[:i]
	}
	return ref
}
