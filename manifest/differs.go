package manifest

import (
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"
)

// DiffKeys are what may differ between two environments of a repository
// besides the commit and its images (which a release changes on purpose):
// the keys `differs:` may list and `slipway diff` compares.
var DiffKeys = []string{"values", "secrets", "replicas", "hosts", "target"}

// differs decodes the keys expected to differ between environments:
//
//	differs: [hosts, replicas]
func (d *decoder) differs(n *yaml.Node) []string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		d.fail("differs", n, "must be a list of keys (%v)", DiffKeys)
		return nil
	}
	out := []string{}
	for i, item := range n.Content {
		p := fmt.Sprintf("differs[%d]", i)
		s, ok := d.str(p, item)
		switch {
		case !ok:
		case !slices.Contains(DiffKeys, s):
			d.fail(p, item, "unknown key %q (want one of %v)", s, DiffKeys)
		case !slices.Contains(out, s):
			out = append(out, s)
		}
	}
	return out
}

// Differs returns the keys slipway.yaml expects to differ between its
// environments; commit and images always may.
func (m *Manifest) Differs() []string { return append([]string(nil), m.differs...) }

// DeclaresDiffers reports whether slipway.yaml has a differs: list (maybe
// empty): only then are other differences between environments flagged.
func (m *Manifest) DeclaresDiffers() bool { return m.differs != nil }
