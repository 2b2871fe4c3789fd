package build

import (
	"bytes"
	"context"
	"sync"

	"github.com/slipway-dev/slipway/events"
)

// stampCache is how many Dockerfiles a Handler remembers the stamp of;
// past it the memory is cleared and filled again by the next builds.
const stampCache = 4096

// stamps remembers, by the git blob id of a Dockerfile, whether it names
// stampArg: a blob's content never changes, and a commit leaves most
// Dockerfiles as they were, so the build key of an unchanged service reads
// no file.
type stamps struct {
	mu   sync.Mutex
	seen map[string]bool
}

// stamped reports whether the Dockerfile at path of e's commit, of blob
// id, names stampArg, reading it from src only when id was not read before.
func (s *stamps) stamped(ctx context.Context, src FileReader, e *events.BuildRequested, path, id string) (bool, error) {
	s.mu.Lock()
	v, ok := s.seen[id]
	s.mu.Unlock()
	if ok {
		return v, nil
	}
	content, err := src.ReadFile(ctx, e.Repo, e.Commit, path)
	if err != nil {
		return false, err
	}
	v = bytes.Contains(content, []byte(stampArg))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil || len(s.seen) >= stampCache {
		s.seen = map[string]bool{}
	}
	s.seen[id] = v
	return v, nil
}
