package natsstream

import (
	"math"
	"sync"
	"time"
)

// index is the in-memory set of recorded delivery keys, each with the time
// it expires, in Unix nanoseconds. It is safe for concurrent use.
type index struct {
	ttl     time.Duration // 0: keys never expire
	mu      sync.RWMutex
	expires map[string]int64
}

func newIndex(ttl time.Duration) *index {
	return &index{ttl: ttl, expires: make(map[string]int64)}
}

// add remembers key, recorded at the given time. A later record of the same
// key keeps the later expiry.
func (x *index) add(key string, recorded time.Time) {
	exp := int64(math.MaxInt64)
	if x.ttl > 0 {
		exp = recorded.Add(x.ttl).UnixNano()
	}
	x.mu.Lock()
	x.expires[key] = max(x.expires[key], exp)
	x.mu.Unlock()
}

// has reports whether key was recorded and has not expired at now.
func (x *index) has(key string, now time.Time) bool {
	x.mu.RLock()
	exp, ok := x.expires[key]
	x.mu.RUnlock()
	return ok && now.UnixNano() < exp
}

// sweep drops the keys expired at now. has ignores them already; sweep only
// frees their memory.
func (x *index) sweep(now time.Time) {
	t := now.UnixNano()
	x.mu.Lock()
	defer x.mu.Unlock()
	for k, exp := range x.expires {
		if exp <= t {
			delete(x.expires, k)
		}
	}
}

func (x *index) len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.expires)
}
