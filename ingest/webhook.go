package ingest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
)

// serveWebhook handles POST /webhooks/{forge}.
func (h *Handler) serveWebhook(w http.ResponseWriter, r *http.Request) {
	log := zerolog.Ctx(r.Context()).With().Str("forge", r.PathValue("forge")).Logger()
	rep := h.deliver(w, r, &log)
	rep.send(w, &log)
}

// deliver runs one delivery through the checks of the package contract, in
// order, adding what it learns to log.
func (h *Handler) deliver(w http.ResponseWriter, r *http.Request, log *zerolog.Logger) reply {
	received := h.now().UTC()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return refuse(http.StatusMethodNotAllowed, zerolog.InfoLevel, "method not allowed", nil)
	}
	f, ok := h.forges.Lookup(r.PathValue("forge"))
	if !ok {
		return refuse(http.StatusNotFound, zerolog.InfoLevel, "unknown forge", nil)
	}
	req, rep := h.readRequest(w, r)
	if rep != nil {
		return *rep
	}
	if rep := h.authenticate(f, req, log); rep != nil {
		return *rep
	}
	d, err := f.Parse(req)
	if err != nil {
		return parseFailure(err)
	}
	*log = log.With().Str("delivery", d.ID).Logger()
	return h.publish(r.Context(), d, received, log)
}

// readRequest reads the body, at most MaxBodyBytes of it.
func (h *Handler) readRequest(w http.ResponseWriter, r *http.Request) (forge.Request, *reply) {
	if r.ContentLength > h.cfg.MaxBodyBytes {
		rep := refuse(http.StatusRequestEntityTooLarge, zerolog.WarnLevel, "body too large", nil)
		return forge.Request{}, &rep
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		rep := refuse(http.StatusRequestEntityTooLarge, zerolog.WarnLevel, "body too large", nil)
		return forge.Request{}, &rep
	case err != nil:
		rep := refuse(http.StatusBadRequest, zerolog.InfoLevel, "cannot read body", err)
		return forge.Request{}, &rep
	}
	return forge.Request{Header: r.Header, Body: body}, nil
}

// authenticate finds the repository the delivery names, picks its secrets and
// verifies the signature.
func (h *Handler) authenticate(f forge.Forge, req forge.Request, log *zerolog.Logger) *reply {
	repo, err := f.Repo(req)
	if err != nil {
		rep := refuse(http.StatusBadRequest, zerolog.InfoLevel, "malformed payload", err)
		return &rep
	}
	*log = log.With().Str("repo", repo).Logger()
	secrets, ok := h.secretsFor(repo)
	if !ok {
		rep := refuse(http.StatusForbidden, zerolog.WarnLevel, "repository not configured", nil)
		return &rep
	}
	if err := f.Verify(req, secrets); err != nil {
		rep := refuse(http.StatusUnauthorized, zerolog.WarnLevel, "signature missing or invalid", err)
		return &rep
	}
	return nil
}

// parseFailure answers a delivery Parse did not turn into an event: a ping is
// 200, another ignored delivery 202, anything else is the sender's fault.
func parseFailure(err error) reply {
	if reason, ok := forge.IgnoredReason(err); ok {
		if forge.IsPing(err) {
			return ignore(http.StatusOK, reason)
		}
		return ignore(http.StatusAccepted, reason)
	}
	return refuse(http.StatusBadRequest, zerolog.InfoLevel, "malformed payload", err)
}

// publish stamps the event and waits for the publisher's acknowledgement.
func (h *Handler) publish(ctx context.Context, d forge.Delivery, received time.Time, log *zerolog.Logger) reply {
	if d.Event == nil {
		return refuse(http.StatusInternalServerError, zerolog.ErrorLevel, "internal error",
			errors.New("forge returned neither an event nor an error"))
	}
	stampReceived(d.Event, received)
	key := d.Event.DedupKey()
	*log = withEvent(log.With().Str("key", key), d.Event).Logger()
	ctx, cancel := context.WithTimeout(ctx, h.cfg.PublishTimeout)
	defer cancel()
	duplicate, err := h.pub.Publish(ctx, d.Event)
	if err != nil {
		return refuse(http.StatusServiceUnavailable, zerolog.ErrorLevel, "event not stored, retry later", err)
	}
	return reply{
		status: http.StatusAccepted,
		body:   acceptedBody{Status: "accepted", ID: key, Duplicate: duplicate},
		level:  zerolog.InfoLevel,
		msg:    acceptedMsg(duplicate),
	}
}

func acceptedMsg(duplicate bool) string {
	if duplicate {
		return "webhook accepted: duplicate of a stored event"
	}
	return "webhook accepted"
}

// withEvent adds the fields of e worth a log line.
func withEvent(c zerolog.Context, e events.Event) zerolog.Context {
	if p, ok := e.(*events.PushReceived); ok {
		c = c.Str("branch", p.Branch).Str("sha", p.After).Bool("forced", p.Forced)
	}
	return c
}

// stampReceived sets the time the delivery arrived on events that carry it.
func stampReceived(e events.Event, t time.Time) {
	if p, ok := e.(*events.PushReceived); ok {
		p.ReceivedAt = t
	}
}
