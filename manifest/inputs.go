package manifest

import (
	"path"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxInputs is the most paths one service may declare in inputs.
const MaxInputs = 64

// inputs decodes the paths a service's image depends on (inputs:), each a
// path inside the repository that its context contains: the build key of a
// service declaring inputs is computed from them (and its Dockerfile)
// instead of from its whole context, which a service in a wide context (the
// repository's root) needs for a change elsewhere in it not to rebuild it.
func (d *decoder) inputs(p string, n *yaml.Node, context string) []string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		d.fail(p, n, "must be a non-empty list of paths inside the context")
		return nil
	}
	if len(n.Content) > MaxInputs {
		d.fail(p, n, "lists %d paths, more than the limit of %d", len(n.Content), MaxInputs)
		return nil
	}
	var out []string
	for i, item := range n.Content {
		ip := p + "[" + strconv.Itoa(i) + "]"
		s := d.relPath(ip, item)
		if s == "" {
			continue
		}
		if !within(s, context) {
			d.fail(ip, item, "%q is outside the context %q: the build cannot see it", s, context)
			continue
		}
		out = append(out, s)
	}
	return out
}

// within reports whether the clean relative path p is dir or lies under it
// ("." holds every path).
func within(p, dir string) bool {
	return path.Clean(dir) == "." || p == dir || strings.HasPrefix(p, dir+"/")
}
