// Package envdiff lists what differs between two environments of a
// repository: "staging is production but domains". It compares what each
// runs (commit, per-service digests) and how each is configured (values,
// secrets by name, replicas, hosts, target), and tells which differences
// slipway.yaml does not expect (its `differs:` keys; the commit and the
// digests always may differ). It never reads a secret's value: a Side
// carries secret names and versions only.
package envdiff

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/slipway-dev/slipway/events"
)

// Keys compared besides the manifest.DiffKeys: what a release changes.
const (
	KeyCommit = "commit"
	KeyImage  = "image"
)

// Side is one environment as compared.
type Side struct {
	Env    string
	Repo   string // owner/name
	Commit string
	Target string
	Images []events.Image
	// Secrets are the versions of the environment's secrets, by name; the
	// names each service gets are its image's Service.Secrets. A name
	// missing here is compared as set, its versions unknown (a record of
	// an earlier version).
	Secrets map[string]Secret
}

// Secret is one secret of an environment as compared: the version (the
// KV revision of its record) the environment's deploy gave its services,
// 0 when unknown, and the version set now, 0 when none is. Never a value.
//
// Versions of two environments are revisions of two records, counted
// across the whole bucket, so they differ whatever the values: what is
// compared is each side's state (set, not set, changed since the deploy),
// and the versions are shown.
type Secret struct {
	Deployed, Set uint64
}

// Secrets returns the Side.Secrets of an environment whose services
// reference names: by name, the version deployed (nil: unknown) and the
// version set now (0 in set, or absent: not set).
func Secrets(names []string, deployed, set map[string]uint64) map[string]Secret {
	if len(names) == 0 {
		return nil
	}
	out := make(map[string]Secret, len(names))
	for _, n := range names {
		out[n] = Secret{Deployed: deployed[n], Set: set[n]}
	}
	return out
}

// state is what is compared of a secret a service references: "set"
// (the deployed version is the one set, or either is unknown), "not set",
// or "changed" (set again since the deploy, not deployed yet).
func (s Secret) state() string {
	switch {
	case s.Set == 0:
		return "not set"
	case s.Deployed != 0 && s.Deployed != s.Set:
		return "changed"
	}
	return "set"
}

// String shows the secret's versions: "v12", "v12, v15 set since (not
// deployed)", "not set", "v12 deployed, removed since".
func (s Secret) String() string {
	switch {
	case s.Set == 0 && s.Deployed != 0:
		return fmt.Sprintf("v%d deployed, removed since", s.Deployed)
	case s.Set == 0:
		return "not set"
	case s.Deployed != 0 && s.Deployed != s.Set:
		return fmt.Sprintf("v%d, v%d set since (not deployed)", s.Deployed, s.Set)
	}
	return fmt.Sprintf("v%d", s.Set)
}

// secretOf returns how side shows secret name ("set" with its versions
// unknown) and its state.
func (side Side) secretOf(name string) (shown, state string) {
	sec, ok := side.Secrets[name]
	if !ok {
		return "set", "set"
	}
	return sec.String(), sec.state()
}

// SecretNames returns the names of the secrets side's services reference,
// sorted, each once.
func (side Side) SecretNames() []string {
	var out []string
	for _, img := range side.Images {
		for _, n := range img.Service.Secrets {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out
}

// ShowSecret is how side shows secret name in a listing: "-" when none of
// its services references it, else its versions (Secret.String).
func (side Side) ShowSecret(name string) string {
	if !slices.Contains(side.SecretNames(), name) {
		return "-"
	}
	shown, _ := side.secretOf(name)
	return shown
}

// Difference is one thing that differs: Key (a manifest.DiffKeys entry,
// KeyCommit or KeyImage), the Service and Name it concerns (a value's or a
// secret's name) when any, and each side's value ("" when absent).
type Difference struct {
	Key, Service, Name string
	A, B               string
}

// String is the difference on one line.
func (d Difference) String() string {
	what := d.Key
	if d.Service != "" {
		what += " of " + d.Service
	}
	if d.Name != "" {
		what += " " + d.Name
	}
	return fmt.Sprintf("%s: %s ≠ %s", what, show(d.A), show(d.B))
}

func show(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Compare returns every difference between a and b, in a stable order:
// commit, target, then service by service.
func Compare(a, b Side) []Difference {
	var out []Difference
	add := func(key, svc, name, x, y string) {
		if x != y {
			out = append(out, Difference{Key: key, Service: svc, Name: name, A: x, B: y})
		}
	}
	add(KeyCommit, "", "", a.Commit, b.Commit)
	add("target", "", "", events.TargetName(a.Target), events.TargetName(b.Target))
	ia, ib := byService(a.Images), byService(b.Images)
	for _, name := range keys(ia, ib) {
		x, y := ia[name], ib[name]
		add(KeyImage, name, "", x.Digest, y.Digest)
		add("replicas", name, "", replicas(x), replicas(y))
		add("hosts", name, "", strings.Join(sorted(x.Service.Hosts), ","), strings.Join(sorted(y.Service.Hosts), ","))
		for _, k := range keys(x.Service.Env, y.Service.Env) {
			add("values", name, k, x.Service.Env[k], y.Service.Env[k])
		}
		compareSecrets(a, b, x.Service.Secrets, y.Service.Secrets, func(k, sx, sy string) {
			out = append(out, Difference{Key: "secrets", Service: name, Name: k, A: sx, B: sy})
		})
	}
	return out
}

// Unexpected returns the differences whose key is neither the commit, an
// image, nor one of differs.
func Unexpected(diffs []Difference, differs []string) []Difference {
	var out []Difference
	for _, d := range diffs {
		if d.Key != KeyCommit && d.Key != KeyImage && !slices.Contains(differs, d.Key) {
			out = append(out, d)
		}
	}
	return out
}

func byService(images []events.Image) map[string]events.Image {
	m := make(map[string]events.Image, len(images))
	for _, img := range images {
		m[img.Service.Name] = img
	}
	return m
}

// keys returns the keys of a and b, each once, sorted.
func keys[V any](a, b map[string]V) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// replicas is the count a service runs ("" when the side has no such
// service).
func replicas(img events.Image) string {
	if img.Service.Name == "" {
		return ""
	}
	return strconv.Itoa(max(img.Service.Replicas, 1))
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

// compareSecrets calls differ for each secret of xs (a service's on a)
// and ys (the same service's on b) whose state differs: referenced on
// one side only, not set, or changed since the deploy on one side only.
func compareSecrets(a, b Side, xs, ys []string, differ func(name, x, y string)) {
	names := slices.Concat(xs, ys)
	sort.Strings(names)
	for _, n := range slices.Compact(names) {
		var sx, sy, stx, sty string
		if slices.Contains(xs, n) {
			sx, stx = a.secretOf(n)
		}
		if slices.Contains(ys, n) {
			sy, sty = b.secretOf(n)
		}
		if stx != sty {
			differ(n, sx, sy)
		}
	}
}
