package manifest

import (
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// maxProblems bounds the problems reported for one file, so that a broken
// generated manifest does not produce a megabyte of error.
const maxProblems = 20

// decoder walks the YAML tree of a manifest and collects every problem
// instead of stopping at the first.
type decoder struct {
	errs    []error
	dropped int
}

// err returns every problem recorded, joined, or nil.
func (d *decoder) err() error {
	if d.dropped > 0 {
		d.errs = append(d.errs, &FieldError{Msg: fmt.Sprintf("and %d more problems", d.dropped)})
	}
	return errors.Join(d.errs...)
}

// fail records a problem with the field at path, found on the line of n.
func (d *decoder) fail(path string, n *yaml.Node, format string, args ...any) {
	if len(d.errs) >= maxProblems {
		d.dropped++
		return
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &FieldError{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// resolve follows aliases to the node they name. Anchors cannot be put on
// aliases, so one step is enough; the bound guards against a malformed tree.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; i < 8 && n != nil && n.Kind == yaml.AliasNode; i++ {
		n = n.Alias
	}
	return n
}

// field is a value of a mapping with its name and the node of its key.
type field struct {
	name       string
	key, value *yaml.Node
}

// fields are the fields of a mapping in document order.
type fields []field

// get returns the field called name.
func (fs fields) get(name string) (field, bool) {
	for _, f := range fs {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

// mapping returns the fields of the mapping n, recording unknown and
// duplicate keys; ok is false when n is not a mapping. known lists the
// accepted keys; none accepts any key.
func (d *decoder) mapping(path string, n *yaml.Node, known ...string) (fs fields, ok bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		d.fail(path, n, "must be a mapping")
		return nil, false
	}
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			d.fail(path, n.Content[i], "keys must be strings")
			continue
		}
		p := join(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			d.fail(p, k, "duplicate field, first set on line %d", line)
			continue
		}
		seen[k.Value] = k.Line
		if known != nil && !contains(known, k.Value) {
			d.fail(p, k, "unknown field")
			continue
		}
		fs = append(fs, field{name: k.Value, key: k, value: v})
	}
	return fs, true
}

// str decodes a string scalar.
func (d *decoder) str(path string, n *yaml.Node) (string, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		d.fail(path, n, "must be a string")
		return "", false
	}
	return n.Value, true
}

// integer decodes an integer scalar.
func (d *decoder) integer(path string, n *yaml.Node) (int64, bool) {
	n = resolve(n)
	var v int64
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		d.fail(path, n, "must be an integer")
		return 0, false
	}
	return v, true
}

// envValue decodes an environment value: any scalar but null, kept as written.
func (d *decoder) envValue(path string, n *yaml.Node) (string, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		d.fail(path, n, "must be a string")
		return "", false
	}
	switch n.ShortTag() {
	case "!!str", "!!int", "!!float", "!!bool":
		return n.Value, true
	}
	d.fail(path, n, "must be a string")
	return "", false
}

// join appends a field name to a path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
