package canary

import (
	"context"
	"math"
	"time"
)

// shadowSuffix ends the name of an environment's shadow.
const shadowSuffix = "--canary"

// ShadowEnv returns the environment the new commit of env runs in during a
// rollout.
func ShadowEnv(env string) string { return env + shadowSuffix }

// Commands an operator gives a running rollout.
const (
	// CommandPromote skips what remains of the rollout's pauses.
	CommandPromote = "promote"
	// CommandAbort rolls back now.
	CommandAbort = "abort"
)

// Split is how the proxy divides the requests of an environment's services:
// Weight percent to the shadow environment, the rest to the environment.
type Split struct {
	Shadow string `json:"shadow"`
	Commit string `json:"commit"`
	Weight int    `json:"weight"`
	Step   int    `json:"step"`
}

// Store keeps splits, the proxy's counts and the operator's commands.
type Store interface {
	PutSplit(ctx context.Context, repo, env string, s Split) error
	// Split returns the split of env of repo, and false when it has none.
	Split(ctx context.Context, repo, env string) (Split, bool, error)
	DeleteSplit(ctx context.Context, repo, env string) error
	// Stats returns the counts of env of repo, summed over every proxy,
	// since each proxy started.
	Stats(ctx context.Context, repo, env string) (Stats, error)
	// TakeCommand returns the command waiting for env of repo and deletes
	// it; "" when there is none.
	TakeCommand(ctx context.Context, repo, env string) (string, error)
}

// Stats are the counts of both releases of an environment.
type Stats struct {
	Stable Counts `json:"stable"`
	Canary Counts `json:"canary"`
}

// Sub returns s minus base, for a window; a proxy that restarted since base
// counts from zero.
func (s Stats) Sub(base Stats) Stats {
	return Stats{Stable: s.Stable.Sub(base.Stable), Canary: s.Canary.Sub(base.Canary)}
}

// Add returns s plus o.
func (s Stats) Add(o Stats) Stats {
	return Stats{Stable: s.Stable.Add(o.Stable), Canary: s.Canary.Add(o.Canary)}
}

// bounds are the upper bounds of the latency buckets: 1 ms growing by a
// fifth up to about a minute; a last bucket holds the rest.
var bounds = func() []time.Duration {
	var b []time.Duration
	for d := float64(time.Millisecond); d < float64(time.Minute); d *= 1.2 {
		b = append(b, time.Duration(d))
	}
	return b
}()

// Counts are the requests one release answered: how many, how many with a
// 5xx, and a histogram of their latency.
type Counts struct {
	Requests int64   `json:"n"`
	Errors   int64   `json:"e"`
	Buckets  []int64 `json:"b,omitempty"`
}

// Observe counts one request answered with status after d.
func (c *Counts) Observe(status int, d time.Duration) {
	c.Requests++
	if status >= 500 {
		c.Errors++
	}
	if c.Buckets == nil {
		c.Buckets = make([]int64, len(bounds)+1)
	}
	i := 0
	for i < len(bounds) && d > bounds[i] {
		i++
	}
	c.Buckets[i]++
}

// Sub returns c minus base; when c counts fewer requests than base (its
// proxy restarted), c itself.
func (c Counts) Sub(base Counts) Counts {
	if c.Requests < base.Requests {
		return c.clone()
	}
	out := Counts{Requests: c.Requests - base.Requests, Errors: c.Errors - base.Errors}
	if c.Buckets != nil {
		out.Buckets = make([]int64, len(c.Buckets))
		for i := range c.Buckets {
			out.Buckets[i] = c.Buckets[i]
			if i < len(base.Buckets) {
				out.Buckets[i] -= base.Buckets[i]
			}
		}
	}
	return out
}

// Add returns c plus o.
func (c Counts) Add(o Counts) Counts {
	out := Counts{Requests: c.Requests + o.Requests, Errors: c.Errors + o.Errors}
	n := max(len(c.Buckets), len(o.Buckets))
	if n > 0 {
		out.Buckets = make([]int64, n)
		for i := range n {
			if i < len(c.Buckets) {
				out.Buckets[i] += c.Buckets[i]
			}
			if i < len(o.Buckets) {
				out.Buckets[i] += o.Buckets[i]
			}
		}
	}
	return out
}

// clone returns a copy of c.
func (c Counts) clone() Counts {
	c.Buckets = append([]int64(nil), c.Buckets...)
	return c
}

// ErrorRate returns the share of 5xx answers in percent, 0 without
// requests.
func (c Counts) ErrorRate() float64 {
	if c.Requests == 0 {
		return 0
	}
	return float64(c.Errors) * 100 / float64(c.Requests)
}

// P99 returns the upper bound of the bucket holding the 99th percentile of
// latency, 0 without requests.
func (c Counts) P99() time.Duration {
	if c.Requests == 0 {
		return 0
	}
	want := int64(math.Ceil(float64(c.Requests) * 0.99))
	var seen int64
	for i, n := range c.Buckets {
		seen += n
		if seen >= want {
			if i < len(bounds) {
				return bounds[i]
			}
			return time.Minute
		}
	}
	return time.Minute
}
