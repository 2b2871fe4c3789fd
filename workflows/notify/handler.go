package notify

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/release"
)

// State is a commit status state.
type State string

// States of a commit status.
const (
	Pending  State = "pending"
	Success  State = "success"
	Failure  State = "failure"
	Canceled State = "canceled"
)

// Status is the state of one check of one commit.
type Status struct {
	Repo        events.Repo
	SHA         string
	State       State
	Context     string
	Description string
	TargetURL   string
}

// Host is a git host's API (forgeapi.Client).
type Host interface {
	PostStatus(ctx context.Context, s Status) error
	Comment(ctx context.Context, repo events.Repo, number int, body string) error
}

// Hosts returns the API of a repository's host, false when none is
// configured.
type Hosts func(repo events.Repo) (Host, bool)

// Config configures the notifications.
type Config struct {
	// URL returns the address a deploy's status links to, or "".
	URL func(repo, env, service string) string
	// Timeout bounds one call to a host (default 10s); Pause is the wait
	// before the second try (default 1s); Rest is how long a host that
	// failed is left alone before its kept statuses are tried again
	// (default 30s).
	Timeout, Pause, Rest time.Duration
	// MaxPending bounds the statuses and comments kept per host while it
	// does not answer (default 1000); past it the oldest is lost, logged.
	MaxPending int
}

// Handler posts statuses and comments. What a host does not take is kept,
// the latest per commit and check (per pull request for a comment), and
// posted when the host answers again (Run).
type Handler struct {
	Config Config
	Hosts  Hosts
	Now    func() time.Time

	mu     sync.Mutex
	queues map[string]*queue // host key → what waits for it
}

// Handle reports one event. It never returns an error the messaging edge
// would retry: what the host does not take now is kept and posted later.
func (h *Handler) Handle(ctx context.Context, e events.Event) error {
	repo, statuses, comment := describe(e, h.Config.URL)
	if len(statuses) == 0 && comment == nil {
		return events.Ignored("%s: nothing to report", e.EventType())
	}
	host, ok := h.Hosts(repo)
	if !ok {
		return events.Ignored("no API token for %s (%s)", repo.FullName, repo.Forge)
	}
	q := h.queue(repo, host)
	for _, s := range statuses {
		tries := 2
		if s.State == Pending {
			tries = 1 // advisory; a late pending would hide the result
		}
		q.add(ctx, h.maxPending(), &item{
			key:   "status " + s.SHA + " " + s.Context,
			what:  fmt.Sprintf("status %s of %s", s.Context, shortSHA(s.SHA)),
			tries: tries,
			post:  func(ctx context.Context) error { return host.PostStatus(ctx, s) },
		})
	}
	if comment != nil {
		q.add(ctx, h.maxPending(), &item{
			key:   fmt.Sprintf("comment %d", comment.number),
			what:  fmt.Sprintf("comment on #%d", comment.number),
			tries: 2,
			post:  func(ctx context.Context) error { return host.Comment(ctx, repo, comment.number, comment.body) },
		})
	}
	h.flush(ctx, q)
	return nil
}

// Run posts what hosts did not take, each host once its rest is over,
// until ctx ends.
func (h *Handler) Run(ctx context.Context) error {
	t := time.NewTicker(h.retryEvery())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for _, q := range h.waiting() {
			h.flush(ctx, q)
		}
	}
}

// flush posts q's items in order until one fails for the host (it is then
// left alone for Rest, the rest kept) or none is left. An item the host
// refuses for itself (a permanent error: 4xx) is logged and given up.
func (h *Handler) flush(ctx context.Context, q *queue) {
	q.posting.Lock()
	defer q.posting.Unlock()
	log := zerolog.Ctx(ctx).With().Str("repo", q.repo).Logger()
	for {
		it, until, resting := q.next(h.now())
		if resting {
			log.Warn().Time("until", until).Int("pending", q.len()).Msg("git host failed recently: status kept, posted when it answers again")
			return
		}
		if it == nil {
			return
		}
		err := h.try(ctx, it.tries, it.post)
		switch {
		case err == nil:
			q.done(it)
		case events.IsPermanent(err):
			q.done(it)
			log.Error().Err(err).Str("what", it.what).Msg("the git host refused it: given up")
		default:
			q.rest(h.now().Add(or(h.Config.Rest, 30*time.Second)))
			log.Error().Err(err).Str("what", it.what).Int("pending", q.len()).Msg("posting to the git host failed: kept, tried again later")
			return
		}
	}
}

// queue returns the queue of repo's host.
func (h *Handler) queue(repo events.Repo, host Host) *queue {
	key := repo.Forge + " " + repo.CloneURL
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.queues == nil {
		h.queues = map[string]*queue{}
	}
	q, ok := h.queues[key]
	if !ok {
		q = &queue{repo: repo.FullName, index: map[string]*item{}}
		h.queues[key] = q
	}
	return q
}

// waiting returns the queues that hold something.
func (h *Handler) waiting() []*queue {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*queue
	for _, q := range h.queues {
		if q.len() > 0 {
			out = append(out, q)
		}
	}
	return out
}

// Pending returns how many statuses and comments wait for a host.
func (h *Handler) Pending() int {
	n := 0
	for _, q := range h.waiting() {
		n += q.len()
	}
	return n
}

// try calls f up to tries times, each bounded by the timeout; a permanent
// error ends the tries.
func (h *Handler) try(ctx context.Context, tries int, f func(context.Context) error) error {
	var err error
	for i := 0; i < tries; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(or(h.Config.Pause, time.Second)):
			}
		}
		cctx, cancel := context.WithTimeout(ctx, or(h.Config.Timeout, 10*time.Second))
		err = f(cctx)
		cancel()
		if err == nil || events.IsPermanent(err) {
			return err
		}
	}
	return err
}

func (h *Handler) maxPending() int {
	if h.Config.MaxPending > 0 {
		return h.Config.MaxPending
	}
	return 1000
}

// retryEvery is how often Run looks for hosts to try again: a fifth of
// the rest, at least 10ms.
func (h *Handler) retryEvery() time.Duration {
	return max(or(h.Config.Rest, 30*time.Second)/5, 10*time.Millisecond)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func shortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// comment is a pull request comment to post.
type comment struct {
	number int
	body   string
}

// describe returns the repository, the statuses and the comment an event
// reports.
func describe(e events.Event, url func(repo, env, service string) string) (events.Repo, []Status, *comment) {
	link := func(repo events.Repo, env string, images []events.Image) string {
		if url == nil || len(images) == 0 {
			return ""
		}
		return url(repo.FullName, env, images[0].Service.Name)
	}
	switch e := e.(type) {
	case *events.BuildRequested:
		return e.Repo, []Status{{e.Repo, e.Commit, Pending, "slipway/build/" + e.Service.Name, "building", ""}}, nil
	case *events.BuildSucceeded:
		d := "built " + shortDigest(e.Digest)
		if e.Cached {
			d += " (built before)"
		}
		return e.Repo, []Status{{e.Repo, e.Commit, Success, "slipway/build/" + e.Service, d, ""}}, nil
	case *events.BuildFailed:
		ctx := "slipway/build"
		if e.Service != "" {
			ctx += "/" + e.Service
		}
		return e.Repo, []Status{{e.Repo, e.Commit, Failure, ctx, firstLine(e.Reason), ""}}, nil
	case *events.DeployRequested:
		return e.Repo, []Status{{e.Repo, e.Commit, Pending, "slipway/deploy/" + e.Env, "deploying to " + e.Env, link(e.Repo, e.Env, e.Images)}}, nil
	case *events.DeploySucceeded:
		d := fmt.Sprintf("running on %s (deployed in %s)", e.Env, e.Duration.Round(100*time.Millisecond))
		return e.Repo, []Status{{e.Repo, e.Commit, Success, "slipway/deploy/" + e.Env, d, link(e.Repo, e.Env, e.Images)}}, nil
	case *events.DeployFailed:
		return e.Repo, []Status{{e.Repo, e.Commit, Failure, "slipway/deploy/" + e.Env, firstLine(e.Reason), ""}}, nil
	case *events.DeploySuperseded:
		return e.Repo, []Status{{e.Repo, e.Commit, Canceled, "slipway/deploy/" + e.Env, firstLine(e.Reason), ""}}, nil
	case *events.ReleasePlanned:
		st := Status{e.Repo, e.HeadSHA, Success, "slipway/release/" + e.Env, fmt.Sprintf("ready: %d commit(s) to %s", e.CommitCount, e.Env), ""}
		if len(e.Problems) > 0 {
			st.State, st.Description = Failure, firstLine(e.Problems[0])
		}
		var c *comment
		if e.Number > 0 {
			c = &comment{number: e.Number, body: release.Markdown(e)}
		}
		return e.Repo, []Status{st}, c
	}
	return describeCheck(e)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimPrefix(s, "permanent: "), "\n")
	return s
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}
