package notify

import (
	"context"
	"errors"
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
	// failed is left alone (default 30s).
	Timeout, Pause, Rest time.Duration
}

// Handler posts statuses and comments.
type Handler struct {
	Config Config
	Hosts  Hosts
	Now    func() time.Time

	mu   sync.Mutex
	down map[string]time.Time // host key → until when it is left alone
}

// Handle reports one event. It never returns an error the messaging edge
// would retry: what cannot be posted is logged and dropped.
func (h *Handler) Handle(ctx context.Context, e events.Event) error {
	repo, statuses, comment := describe(e, h.Config.URL)
	if len(statuses) == 0 && comment == nil {
		return events.Ignored("%s: nothing to report", e.EventType())
	}
	host, ok := h.Hosts(repo)
	if !ok {
		return events.Ignored("no API token for %s (%s)", repo.FullName, repo.Forge)
	}
	key := repo.Forge + " " + repo.CloneURL
	if until, down := h.isDown(key); down {
		zerolog.Ctx(ctx).Warn().Str("repo", repo.FullName).Time("until", until).Msg("git host failed recently: status dropped")
		return nil
	}
	var errs []error
	for _, s := range statuses {
		tries := 2
		if s.State == Pending {
			tries = 1 // advisory; a late pending would hide the result
		}
		errs = append(errs, h.try(ctx, tries, func(ctx context.Context) error { return host.PostStatus(ctx, s) }))
	}
	if comment != nil {
		errs = append(errs, h.try(ctx, 2, func(ctx context.Context) error { return host.Comment(ctx, repo, comment.number, comment.body) }))
	}
	if err := errors.Join(errs...); err != nil {
		h.rest(key)
		zerolog.Ctx(ctx).Error().Err(err).Str("repo", repo.FullName).Msg("posting to the git host failed: dropped")
	}
	return nil
}

// try calls f up to tries times, each bounded by the timeout.
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
		if err == nil {
			return nil
		}
	}
	return err
}

func (h *Handler) isDown(key string) (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	until, ok := h.down[key]
	return until, ok && h.now().Before(until)
}

func (h *Handler) rest(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down == nil {
		h.down = map[string]time.Time{}
	}
	h.down[key] = h.now().Add(or(h.Config.Rest, 30*time.Second))
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
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
