package forge

import (
	"fmt"
	"slices"
)

// Registry finds a Forge by its name or one of its aliases. It is built once
// at start-up and is safe for concurrent use afterwards.
type Registry struct {
	byName map[string]Forge
}

// NewRegistry registers each forge under its Name and, if it is an Aliaser,
// under each alias. Two forges claiming the same name is an error.
func NewRegistry(forges ...Forge) (*Registry, error) {
	r := &Registry{byName: make(map[string]Forge)}
	for _, f := range forges {
		names := []string{f.Name()}
		if a, ok := f.(Aliaser); ok {
			names = append(names, a.Aliases()...)
		}
		for _, name := range names {
			if err := r.add(name, f); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

func (r *Registry) add(name string, f Forge) error {
	if name == "" {
		return fmt.Errorf("register forge: empty name")
	}
	if _, dup := r.byName[name]; dup {
		return fmt.Errorf("register forge %q: name already taken", name)
	}
	r.byName[name] = f
	return nil
}

// Lookup returns the forge registered under name.
func (r *Registry) Lookup(name string) (Forge, bool) {
	f, ok := r.byName[name]
	return f, ok
}

// Names returns every registered name and alias, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.byName))
	for name := range r.byName {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
