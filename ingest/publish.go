package ingest

import (
	"context"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
)

// recordTimeout bounds the wait for recording a delivery id apart once its
// events are stored; the host's answer does not depend on it.
const recordTimeout = 2 * time.Second

// publish completes the events of a verified delivery and answers 202 only
// once every one of them is stored. A delivery recorded before is answered as
// a duplicate without publishing anything.
func (h *Handler) publish(ctx context.Context, forgeName string, d forge.Delivery, received time.Time, log *zerolog.Logger) reply {
	if len(d.Events) == 0 {
		return ignore(http.StatusAccepted, "delivery holds no event")
	}
	keys := make([]string, len(d.Events))
	for i, e := range d.Events {
		h.complete(e, received)
		keys[i] = e.DedupKey()
	}
	*log = withEvents(log.With(), keys, d.Events).Logger()
	pctx, cancel := context.WithTimeout(ctx, h.cfg.PublishTimeout)
	defer cancel()
	if seen, err := h.seen(pctx, forgeName, d.ID); err != nil || seen {
		if err != nil {
			return refuse(http.StatusServiceUnavailable, zerolog.ErrorLevel, "event not stored, retry later", err)
		}
		return accepted(keys, true, "webhook accepted: redelivery of a recorded delivery")
	}
	duplicate := true
	for i, e := range d.Events {
		var dup bool
		var err error
		if i == len(d.Events)-1 {
			dup, err = h.publishLast(pctx, forgeName, d.ID, e, log)
		} else {
			dup, err = h.pub.Publish(pctx, e)
		}
		if err != nil {
			return refuse(http.StatusServiceUnavailable, zerolog.ErrorLevel, "event not stored, retry later", err)
		}
		duplicate = duplicate && dup
	}
	if duplicate {
		return accepted(keys, true, "webhook accepted: duplicate of a stored event")
	}
	return accepted(keys, false, "webhook accepted")
}

// seen reports whether the delivery was recorded before. A delivery without
// an id, or a handler without a delivery store, was never seen.
func (h *Handler) seen(ctx context.Context, forgeName, id string) (bool, error) {
	if id == "" || h.deliveries == nil {
		return false, nil
	}
	return h.deliveries.Seen(ctx, forgeName, id)
}

// publishLast publishes the last event of a delivery, the others being
// stored, with the record of the delivery: from then on a redelivery
// publishes nothing. When JetStream answers that the event was a duplicate,
// its stored copy may name another delivery, and the delivery is recorded
// apart. A failure to do so is logged and not answered: the events are
// stored, and a redelivery inside the stream's duplicate window is still
// recognised by JetStream.
func (h *Handler) publishLast(ctx context.Context, forgeName, id string, e events.Event, log *zerolog.Logger) (bool, error) {
	if id == "" || h.deliveries == nil {
		return h.pub.Publish(ctx, e)
	}
	dup, err := h.deliveries.Publish(ctx, forgeName, id, e)
	if err != nil || !dup {
		return dup, err
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := h.deliveries.Record(rctx, forgeName, id); err != nil {
		log.Warn().Err(err).Msg("delivery not recorded: a redelivery after the duplicate window would publish again")
	}
	return dup, nil
}

func accepted(keys []string, duplicate bool, msg string) reply {
	body := acceptedBody{Status: "accepted", ID: keys[0], Duplicate: duplicate}
	if len(keys) > 1 {
		body.IDs = keys
	}
	return reply{status: http.StatusAccepted, body: body, level: zerolog.InfoLevel, msg: msg}
}

// withEvents adds the fields of the events worth a log line.
func withEvents(c zerolog.Context, keys []string, evs []events.Event) zerolog.Context {
	c = c.Str("key", keys[0])
	if len(keys) > 1 {
		c = c.Strs("keys", keys)
	}
	switch e := evs[0].(type) {
	case *events.PushReceived:
		c = c.Str("branch", e.Branch).Str("sha", e.After).Bool("forced", e.Forced).Bool("created", e.Created)
	case *events.PullRequestChanged:
		c = c.Int("pr", e.Number).Str("action", e.Action).Str("sha", e.HeadSHA)
	case *events.BranchDeleted:
		c = c.Str("branch", e.Branch)
	case *events.TagPushed:
		c = c.Str("tag", e.Tag).Str("sha", e.Commit)
	case *events.TagDeleted:
		c = c.Str("tag", e.Tag)
	}
	return c
}

// complete sets what the forge leaves to the receiver: the time the delivery
// arrived, and the configured default branch of a repository whose host did
// not name it.
func (h *Handler) complete(e events.Event, received time.Time) {
	if p, ok := e.(*events.PushReceived); ok {
		p.ReceivedAt = received
	}
	repos := []*events.Repo{repoOf(e)}
	if pr, ok := e.(*events.PullRequestChanged); ok {
		repos = append(repos, &pr.SourceRepo)
	}
	for _, r := range repos {
		if r != nil && r.DefaultBranch == "" && r.FullName != "" {
			r.DefaultBranch = h.cfg.DefaultBranch
		}
	}
}

// repoOf returns the repository an event is about.
func repoOf(e events.Event) *events.Repo {
	switch e := e.(type) {
	case *events.PushReceived:
		return &e.Repo
	case *events.PullRequestChanged:
		return &e.Repo
	case *events.BranchDeleted:
		return &e.Repo
	case *events.TagPushed:
		return &e.Repo
	case *events.TagDeleted:
		return &e.Repo
	}
	return nil
}

// repoName is the full name of the repository of a delivery's events, or ""
// when it has none.
func repoName(d forge.Delivery) string {
	if len(d.Events) == 0 {
		return ""
	}
	if r := repoOf(d.Events[0]); r != nil {
		return r.FullName
	}
	return ""
}
