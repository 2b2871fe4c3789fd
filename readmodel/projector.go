package readmodel

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// Project folds one event of stream SLIPWAY into the read model: a
// natsjs.HandlerFunc of the projector's durable consumer. The event's
// stream sequence (natsjs.StoredOf) orders and deduplicates: a record
// already holding it is left as it is, so a redelivered event changes
// nothing.
func (m *Model) Project(ctx context.Context, env events.Envelope) error {
	at, ok := natsjs.StoredOf(ctx)
	if !ok {
		return events.Permanent(fmt.Errorf("project %s: no stream sequence", env.ID))
	}
	if err := m.index(ctx, env, at); err != nil {
		return err
	}
	ev, err := env.Decode()
	if err != nil {
		zerolog.Ctx(ctx).Debug().Err(err).Str("event", env.ID).Msg("read model: event not decoded, indexed only")
		return nil
	}
	f := fold{m: m, env: env, seq: at.Seq}
	return f.event(ctx, ev)
}

// index records that id names the event at at.
func (m *Model) index(ctx context.Context, env events.Envelope, at natsjs.Stored) error {
	return update(ctx, m.byID, idKey(env.ID), at.Seq, func(s *Stored) {
		*s = Stored{ID: env.ID, Seq: at.Seq, Subject: at.Subject, Time: env.Time}
	})
}

// fold is the folding of one event.
type fold struct {
	m   *Model
	env events.Envelope
	seq uint64
}

// event folds ev into the records it concerns.
func (f fold) event(ctx context.Context, ev events.Event) error {
	switch e := ev.(type) {
	case *events.PushReceived:
		if e.After == "" {
			return nil
		}
		return f.commit(ctx, e.Repo.FullName, e.After, func(c *Commit) {
			c.Branch, c.Pusher, c.Message, c.PushedAt = e.Branch, e.Pusher, e.Message, e.ReceivedAt
		})
	case *events.BuildRequested:
		return f.build(ctx, e.Repo.FullName, e.Commit, e.Branch, e.Service.Name, func(b *Build) {
			*b = Build{Service: b.Service, Result: BuildRequested, RequestedAt: f.env.Time, Log: b.Log}
		})
	case *events.BuildSucceeded:
		return f.build(ctx, e.Repo.FullName, e.Commit, e.Branch, e.Service, func(b *Build) {
			b.Result, b.Reason, b.Step, b.Output = BuildSucceeded, "", "", nil
			b.Image, b.Digest, b.Cached = e.Image, e.Digest, e.Cached
			if !e.Cached {
				b.StartedAt, b.Duration = e.StartedAt, e.Duration
			}
		})
	case *events.BuildFailed:
		if e.Service == "" {
			return f.commit(ctx, e.Repo.FullName, e.Commit, func(c *Commit) { c.Failed = e.Reason })
		}
		return f.build(ctx, e.Repo.FullName, e.Commit, e.Branch, e.Service, func(b *Build) {
			b.Result, b.Reason, b.Step, b.Output = BuildFailed, e.Reason, e.Step, e.Output
			b.StartedAt, b.Duration = e.StartedAt, e.Duration
		})
	case *events.CommitBuilt:
		return f.commit(ctx, e.Repo.FullName, e.Commit, func(c *Commit) {
			c.Built = true
			if c.Branch == "" {
				c.Branch = e.Branch
			}
		})
	case *events.DeployRequested:
		return f.requested(ctx, e)
	case *events.ReleasePlanned:
		return f.plan(ctx, e)
	case *events.PreviewRemoved:
		return f.envRecord(ctx, e.Repo.FullName, e.Env, func(v *Env) { v.Health, v.Pending = HealthRemoved, "" })
	}
	// A gated deploy (blocked by a check, held by a freeze) is in the
	// history as well as a result.
	if r, ok := events.RecordOf(ev); ok {
		return f.result(ctx, r)
	}
	return nil
}

// commit folds into the commit sha of repo, adding it to the repository's
// list the first time it is seen.
func (f fold) commit(ctx context.Context, repo, sha string, apply func(*Commit)) error {
	if repo == "" || sha == "" {
		return nil
	}
	key := commitKey(repo, sha)
	_, _, found, err := get[Commit](ctx, f.m.commits, key)
	if err != nil {
		return err
	}
	if !found {
		if err := f.listCommit(ctx, repo, sha); err != nil {
			return err
		}
	}
	return update(ctx, f.m.commits, key, f.seq, func(c *Commit) {
		c.Repo, c.SHA = repo, sha
		apply(c)
	})
}

// listCommit appends sha to the commits of repo: to the page first, then
// the count, so an event redelivered between the two is counted once.
func (f fold) listCommit(ctx context.Context, repo, sha string) error {
	r, _, _, err := get[Repo](ctx, f.m.repos, repoKey(repo))
	if err != nil || r.Seq >= f.seq {
		return err
	}
	err = update(ctx, f.m.pages, commitPage(repo, r.Commits/pageSize), f.seq, func(p *page[string]) { p.Items = append(p.Items, sha) })
	if err != nil {
		return err
	}
	return update(ctx, f.m.repos, repoKey(repo), f.seq, func(r *Repo) { r.Name = repo; r.Commits++ })
}

// build folds into the build of service of a commit.
func (f fold) build(ctx context.Context, repo, sha, branch, service string, apply func(*Build)) error {
	if service == "" {
		return nil
	}
	return f.commit(ctx, repo, sha, func(c *Commit) {
		if c.Branch == "" {
			c.Branch = branch
		}
		if c.Builds == nil {
			c.Builds = map[string]*Build{}
		}
		b := c.Builds[service]
		if b == nil {
			b = &Build{}
			c.Builds[service] = b
		}
		b.Service, b.Log = service, natsjs.LogSubject(repo, sha, service)
		apply(b)
	})
}
