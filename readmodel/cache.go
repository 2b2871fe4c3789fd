package readmodel

import "sync"

// cacheSize bounds the records the projector keeps: the environments,
// the last pages and the recent commits of a busy installation.
const cacheSize = 8192

// cache holds the records the projector last wrote or read, with their
// revisions, so that folding an event costs its writes and no reads.
//
// It is only ever a guess: every write is revision-checked, and a record
// another writer changed (another projector, a reindex) fails its write
// and is read again. An event at or before the last one folded (a
// redelivery, or the stream folded again after a reindex wiped the
// buckets) empties it first, so a record it holds never claims an event
// that the buckets lost.
type cache struct {
	mu      sync.Mutex
	max     int
	entries map[string]cacheEntry
	last    uint64
}

// cacheEntry is a record at a revision, as read (data) or decoded
// (value), or its absence.
type cacheEntry struct {
	rev    uint64
	data   []byte
	value  any
	absent bool
}

func newCache(size int) *cache { return &cache{max: size, entries: map[string]cacheEntry{}} }

// folding tells c the stream sequence of the event about to be folded.
func (c *cache) folding(seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if seq <= c.last {
		clear(c.entries)
	}
	c.last = seq
}

func (c *cache) get(k string) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	return e, ok
}

func (c *cache) put(k string, rev uint64, data []byte) { c.set(k, cacheEntry{rev: rev, data: data}) }

func (c *cache) putAbsent(k string) { c.set(k, cacheEntry{absent: true}) }

func (c *cache) set(k string, e cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.max {
		for old := range c.entries { // any one: a miss costs one read
			delete(c.entries, old)
			break
		}
	}
	c.entries[k] = e
}

func (c *cache) drop(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, k)
}
