// Package envdiff lists what differs between two environments of a
// repository: "staging is production but domains". It compares what each
// runs (commit, per-service digests) and how each is configured (values,
// secrets by name, replicas, hosts, target), and tells which differences
// slipway.yaml does not expect (its `differs:` keys; the commit and the
// digests always may differ). It never reads a secret's value: a Side
// carries secret names only.
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
	Commit string
	Target string
	Images []events.Image
	// Secrets are the names of the secrets each service gets, by service;
	// nil when the installation keeps none (an extension point for the
	// secrets store).
	Secrets map[string][]string
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
	for _, name := range names(ia, ib) {
		x, y := ia[name], ib[name]
		add(KeyImage, name, "", x.Digest, y.Digest)
		add("replicas", name, "", replicas(x), replicas(y))
		add("hosts", name, "", strings.Join(sorted(x.Service.Hosts), ","), strings.Join(sorted(y.Service.Hosts), ","))
		for _, k := range keys(x.Service.Env, y.Service.Env) {
			add("values", name, k, x.Service.Env[k], y.Service.Env[k])
		}
		sa, sb := set(a.Secrets[name]), set(b.Secrets[name])
		for _, k := range keys(sa, sb) {
			add("secrets", name, k, sa[k], sb[k])
		}
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

func names(a, b map[string]events.Image) []string {
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

func keys(a, b map[string]string) []string {
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

// set marks each secret name present ("set"), never its value.
func set(names []string) map[string]string {
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = "set"
	}
	return m
}
