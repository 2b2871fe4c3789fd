package build

import (
	"context"
	"sync"

	"github.com/slipway-dev/slipway/manifest"
)

// ManifestCache is how many commits' slipway.yaml a Planner keeps parsed;
// past it the one read first is forgotten (and read again if asked for).
const ManifestCache = 256

// manifests holds the parsed slipway.yaml of the last commits read, by
// "<repo>@<sha>". A read in flight is shared: callers asking for the same
// commit at once wait for it instead of reading again.
type manifests struct {
	mu      sync.Mutex
	entries map[string]*manifestEntry
	order   []*manifestEntry // oldest first
}

type manifestEntry struct {
	key  string
	done chan struct{}
	m    *manifest.Manifest
	err  error
}

// get returns the manifest of key, calling read only when no caller holds
// or is reading it. A failed read is given to the callers that waited for
// it, and then forgotten.
func (c *manifests) get(ctx context.Context, key string, read func() (*manifest.Manifest, error)) (*manifest.Manifest, error) {
	c.mu.Lock()
	if e, ok := c.entries[key]; ok {
		c.mu.Unlock()
		select {
		case <-e.done:
			return e.m, e.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	e := c.add(key)
	c.mu.Unlock()

	e.m, e.err = read()
	if e.err != nil {
		c.mu.Lock()
		c.forget(e)
		c.mu.Unlock()
	}
	close(e.done)
	return e.m, e.err
}

// add records a read of key in flight, forgetting the oldest entry past
// ManifestCache. c.mu is held.
func (c *manifests) add(key string) *manifestEntry {
	if c.entries == nil {
		c.entries = map[string]*manifestEntry{}
	}
	e := &manifestEntry{key: key, done: make(chan struct{})}
	c.entries[key] = e
	c.order = append(c.order, e)
	for len(c.order) > ManifestCache {
		old := c.order[0]
		c.order = c.order[1:]
		if c.entries[old.key] == old {
			delete(c.entries, old.key)
		}
	}
	return e
}

// forget drops e. c.mu is held.
func (c *manifests) forget(e *manifestEntry) {
	if c.entries[e.key] == e {
		delete(c.entries, e.key)
	}
	for i, o := range c.order {
		if o == e {
			c.order = append(c.order[:i], c.order[i+1:]...)
			break
		}
	}
}
