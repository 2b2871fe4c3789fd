package manifest

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// namedList is a list of named entries of slipway.yaml (checks,
// provisioning steps, a service's tasks): at most max of them, each
// decoded by entry, no two of the same name.
type namedList[T any] struct {
	// plural names the entries in errors: "must be a list of <plural>",
	// "at most <max> <plural>".
	plural string
	max    int
	// duplicate is the error format of a name used again, given the name.
	duplicate string
	entry     func(p string, n *yaml.Node) (T, bool)
	name      func(T) string
}

// decode decodes the list at path p: the entries that decode, in order,
// each failure recorded in d. A list longer than max is refused whole.
func (l namedList[T]) decode(d *decoder, p string, n *yaml.Node) []T {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		d.fail(p, n, "must be a list of %s", l.plural)
		return nil
	}
	if len(n.Content) > l.max {
		d.fail(p, n, "at most %d %s", l.max, l.plural)
		return nil
	}
	var out []T
	seen := map[string]bool{}
	for i, item := range n.Content {
		ip := fmt.Sprintf("%s[%d]", p, i)
		e, ok := l.entry(ip, item)
		if !ok {
			continue
		}
		name := l.name(e)
		if seen[name] {
			d.fail(ip+".name", item, l.duplicate, name)
			continue
		}
		seen[name] = true
		out = append(out, e)
	}
	return out
}

// timeout decodes the timeout of an entry: a duration of at least shortest
// and at most longest, ok false (the failure recorded) otherwise. example
// is a duration to show in the error.
func (d *decoder) timeout(p string, n *yaml.Node, shortest, longest time.Duration, example string) (time.Duration, bool) {
	s, ok := d.str(p, n)
	if !ok {
		return 0, false
	}
	to, err := time.ParseDuration(s)
	if err != nil || to < shortest || to > longest {
		d.fail(p, n, "must be a duration between 1s and %s, such as %s", longest, example)
		return 0, false
	}
	return to, true
}
