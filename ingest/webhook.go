package ingest

import (
	"errors"
	"io"
	"net/http"

	"github.com/rs/zerolog"

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
	if len(req.Body) == 0 {
		return refuse(http.StatusBadRequest, zerolog.InfoLevel, "malformed payload", errors.New("empty body"))
	}
	// The signature is checked over the raw bytes before any of them is
	// parsed; Parse then refuses payloads nesting deeper than forge.MaxDepth.
	signed, err := h.verifyRaw(f, req)
	if err != nil {
		return refuse(http.StatusUnauthorized, zerolog.WarnLevel, "signature missing or invalid", err)
	}
	d, parseErr := f.Parse(req)
	repo, rep := h.repoOf(f, req, d, parseErr)
	if rep != nil {
		return *rep
	}
	*log = log.With().Str("repo", clipLog(repo)).Logger()
	if rep := h.authorise(signed, repo, forge.IsPing(parseErr)); rep != nil {
		return *rep
	}
	if parseErr != nil {
		return parseFailure(parseErr)
	}
	*log = log.With().Str("delivery", clipLog(d.ID)).Logger()
	return h.publish(r.Context(), f.Name(), d, received, log)
}

// repoOf returns the repository a verified delivery names: that of its
// events or, when it has none (a ping, an ignored or malformed delivery),
// the one the forge reads from the body.
func (h *Handler) repoOf(f forge.Forge, req forge.Request, d forge.Delivery, parseErr error) (string, *reply) {
	if repo := repoName(d); repo != "" {
		return repo, nil
	}
	repo, err := f.Repo(req)
	if err != nil {
		if parseErr == nil {
			parseErr = err
		}
		rep := refuse(http.StatusBadRequest, zerolog.InfoLevel, "malformed payload", parseErr)
		return "", &rep
	}
	return repo, nil
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

// clipLog cuts a value read from an unverified request to a length worth a
// log line.
func clipLog(s string) string {
	const max = 256
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
