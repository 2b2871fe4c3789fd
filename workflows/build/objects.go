package build

import (
	"context"
	"slices"
	"sync"

	"github.com/slipway-dev/slipway/events"
)

// objectCommits is how many commits an objectMemo remembers; past it the
// memory is cleared and filled again by the next builds.
const objectCommits = 64

// objectMemo looks up, once per commit, the git object ids of what every
// service of the commit's slipway.yaml can see (keyPaths), in one call to
// Objects: the build keys of a commit of 50 services then cost one git
// process, not 50 (each a fork and exec, about 5 ms of CPU on a loaded
// 2-core machine: most of what a reused service cost). A commit never
// changes, so neither do its ids; a failed lookup is not remembered.
type objectMemo struct {
	mu      sync.Mutex
	commits map[string]*commitObjects
}

// commitObjects are the ids of one commit's paths, ready once done closes.
type commitObjects struct {
	done chan struct{}
	ids  map[string]string
	err  error
}

// objectIDs returns the ids of paths at e's commit, looked up with those
// of every service of all (the commit's services) the first time, and
// directly when a path is not among them.
func (m *objectMemo) objectIDs(ctx context.Context, objs Objects, e *events.BuildRequested, all []events.ServiceSpec, paths []string) ([]string, error) {
	key := e.Repo.FullName + "@" + e.Commit
	m.mu.Lock()
	c, ok := m.commits[key]
	if !ok {
		if m.commits == nil || len(m.commits) >= objectCommits {
			m.commits = map[string]*commitObjects{}
		}
		c = &commitObjects{done: make(chan struct{})}
		m.commits[key] = c
	}
	m.mu.Unlock()
	if !ok {
		c.ids, c.err = lookUpAll(ctx, objs, e, all, paths)
		if c.err != nil {
			m.mu.Lock()
			if m.commits[key] == c {
				delete(m.commits, key)
			}
			m.mu.Unlock()
		}
		close(c.done)
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if c.err != nil {
		return objs.ObjectIDs(ctx, e.Repo, e.Commit, paths) // the first caller's failure is its own
	}
	ids := make([]string, len(paths))
	for i, p := range paths {
		id, ok := c.ids[p]
		if !ok {
			return objs.ObjectIDs(ctx, e.Repo, e.Commit, paths)
		}
		ids[i] = id
	}
	return ids, nil
}

// lookUpAll looks up paths and the key paths of every service of all in
// one call, by path.
func lookUpAll(ctx context.Context, objs Objects, e *events.BuildRequested, all []events.ServiceSpec, paths []string) (map[string]string, error) {
	union := slices.Clone(paths)
	for _, s := range all {
		union = append(union, keyPaths(s)...)
	}
	slices.Sort(union)
	union = slices.Compact(union)
	ids, err := objs.ObjectIDs(ctx, e.Repo, e.Commit, union)
	if err != nil {
		return nil, err
	}
	byPath := make(map[string]string, len(union))
	for i, p := range union {
		byPath[p] = ids[i]
	}
	return byPath, nil
}
