package proxy

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/workflows/canary"
)

// Splits is where the proxy reads the split of an environment in a
// progressive rollout and publishes what it counted of each release
// (natsstore.CanaryStore).
type Splits interface {
	Split(ctx context.Context, repo, env string) (canary.Split, bool, error)
	PutStats(ctx context.Context, repo, env, proxy string, st canary.Stats) error
}

// DefaultSplitTTL is how long the proxy reuses a split it read.
const DefaultSplitTTL = 500 * time.Millisecond

// publishEvery is how often the counts are published.
const publishEvery = 250 * time.Millisecond

// WithSplits makes the proxy divide the requests of an environment in a
// rollout between its release and the shadow (canary.ShadowEnv) by the
// split's weight, and count both releases' answers, published under id
// (unique per proxy) by PublishCounts.
func WithSplits(s Splits, id string) Option {
	return func(p *Proxy) {
		p.splits = &splitter{src: s, id: id, ttl: DefaultSplitTTL, cache: map[envRef]splitEntry{}, counts: map[envRef]*envCounts{}}
	}
}

// envRef names an environment of a repository.
type envRef struct{ repo, env string }

// splitEntry is a cached split read.
type splitEntry struct {
	split   canary.Split
	ok      bool
	expires time.Time
}

// envCounts are what the proxy counted of an environment in a rollout.
type envCounts struct {
	stats canary.Stats
	n     uint64 // requests divided so far, for the weights
	dirty bool
}

// splitter divides and counts requests.
type splitter struct {
	src Splits
	id  string
	ttl time.Duration

	mu     sync.Mutex
	cache  map[envRef]splitEntry
	counts map[envRef]*envCounts
}

// choose returns the route rt's request goes to and whether it is the
// shadow's, and whether the environment is in a rollout (then the request
// is counted). Of every 100 requests, the split's weight go to the shadow,
// spread evenly.
func (s *splitter) choose(ctx context.Context, rt route) (route, bool, bool) {
	ref := envRef{rt.Repo, rt.Env}
	sp, ok := s.split(ctx, ref)
	if !ok {
		return rt, false, false
	}
	s.mu.Lock()
	c := s.counts[ref]
	if c == nil {
		c = &envCounts{}
		s.counts[ref] = c
	}
	n := c.n
	c.n++
	s.mu.Unlock()
	w := uint64(min(max(sp.Weight, 0), 100))
	if (n+1)*w/100 > n*w/100 {
		rt.Env = sp.Shadow
		return rt, true, true
	}
	return rt, false, true
}

// split returns the split of ref, read again once its cache expired; a
// failed read keeps the last one known.
func (s *splitter) split(ctx context.Context, ref envRef) (canary.Split, bool) {
	s.mu.Lock()
	e, cached := s.cache[ref]
	s.mu.Unlock()
	if cached && time.Now().Before(e.expires) {
		return e.split, e.ok
	}
	sp, ok, err := s.src.Split(ctx, ref.repo, ref.env)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("env", ref.env).Msg("proxy: read split")
		sp, ok = e.split, e.ok
	}
	s.mu.Lock()
	s.cache[ref] = splitEntry{split: sp, ok: ok, expires: time.Now().Add(s.ttl)}
	s.mu.Unlock()
	return sp, ok
}

// observe counts one answer of env's release (the shadow's when shadow).
func (s *splitter) observe(ref envRef, shadow bool, status int, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counts[ref]
	if c == nil {
		return
	}
	if shadow {
		c.stats.Canary.Observe(status, d)
	} else {
		c.stats.Stable.Observe(status, d)
	}
	c.dirty = true
}

// PublishCounts publishes what the proxy counted of environments in a
// rollout, every quarter of a second and once more at the end, until ctx
// ends. Without WithSplits it returns at once.
func (p *Proxy) PublishCounts(ctx context.Context) error {
	if p.splits == nil {
		return nil
	}
	tick := time.NewTicker(publishEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			p.splits.publish(context.WithoutCancel(ctx))
			return nil
		case <-tick.C:
			p.splits.publish(ctx)
		}
	}
}

// publish writes the counts that changed.
func (s *splitter) publish(ctx context.Context) {
	type pending struct {
		ref   envRef
		stats canary.Stats
	}
	var todo []pending
	s.mu.Lock()
	for ref, c := range s.counts {
		if c.dirty {
			todo = append(todo, pending{ref, canary.Stats{Stable: c.stats.Stable.Add(canary.Counts{}), Canary: c.stats.Canary.Add(canary.Counts{})}})
			c.dirty = false
		}
	}
	s.mu.Unlock()
	for _, t := range todo {
		if err := s.src.PutStats(ctx, t.ref.repo, t.ref.env, s.id, t.stats); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Str("env", t.ref.env).Msg("proxy: publish counts")
			s.mu.Lock()
			s.counts[t.ref].dirty = true
			s.mu.Unlock()
		}
	}
}

// statusWriter remembers the status of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader implements http.ResponseWriter.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushes,
// upgrades).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
