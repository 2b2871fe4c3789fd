package notify

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// item is one status or comment waiting for its host; key names what a
// later one supersedes (a commit and check, a pull request's comment).
type item struct {
	key, what string
	tries     int
	post      func(ctx context.Context) error
}

// queue is what waits for one host, oldest first, one item per key.
type queue struct {
	repo string // for logs: the repository that first used the host

	posting sync.Mutex // held by the one flush at a time

	mu    sync.Mutex
	items []*item
	index map[string]*item
	until time.Time // left alone until then
}

// add keeps it, replacing what it supersedes (the latest wins, in the
// place of the one it replaces); past limit items the oldest is lost.
func (q *queue) add(ctx context.Context, limit int, it *item) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if old, ok := q.index[it.key]; ok {
		for i, x := range q.items {
			if x == old {
				q.items[i] = it
			}
		}
		q.index[it.key] = it
		return
	}
	for len(q.items) >= limit {
		lost := q.items[0]
		q.items = q.items[1:]
		delete(q.index, lost.key)
		zerolog.Ctx(ctx).Error().Str("repo", q.repo).Str("what", lost.what).Int("max", limit).Msg("too many statuses wait for the git host: the oldest is lost")
	}
	q.items = append(q.items, it)
	q.index[it.key] = it
}

// next returns the oldest item, or resting and until while the host is
// left alone.
func (q *queue) next(now time.Time) (it *item, until time.Time, resting bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return nil, time.Time{}, false
	}
	if now.Before(q.until) {
		return nil, q.until, true
	}
	return q.items[0], time.Time{}, false
}

// done removes it, unless a later item replaced it meanwhile.
func (q *queue) done(it *item) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, x := range q.items {
		if x == it {
			q.items = append(q.items[:i], q.items[i+1:]...)
			delete(q.index, it.key)
			return
		}
	}
}

// rest leaves the host alone until then.
func (q *queue) rest(until time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.until = until
}

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}
