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
	if !h.limit.acquire(r.Context()) {
		w.Header().Set("Retry-After", "1")
		return refuse(http.StatusServiceUnavailable, zerolog.WarnLevel, "too many deliveries at once, retry later", nil)
	}
	defer h.limit.release()
	req, release, rep := h.readRequest(w, r)
	defer release()
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
	if rep := h.authorise(f, req, signed, repo, forge.IsPing(parseErr)); rep != nil {
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

// readRequest reads the body, at most MaxBodyBytes of it, within the bytes
// in flight budget; release returns the bytes read to the budget once the
// body is no longer used.
func (h *Handler) readRequest(w http.ResponseWriter, r *http.Request) (_ forge.Request, release func(), _ *reply) {
	release = func() {}
	if r.ContentLength > h.cfg.MaxBodyBytes {
		rep := refuse(http.StatusRequestEntityTooLarge, zerolog.WarnLevel, "body too large", nil)
		return forge.Request{}, release, &rep
	}
	if !h.limit.fits(max(r.ContentLength, 0)) {
		return forge.Request{}, release, overBudget(w, nil)
	}
	br := &budgetReader{r: http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes), l: h.limit}
	body, err := io.ReadAll(br)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.Is(err, errOverBudget):
		br.done()
		return forge.Request{}, release, overBudget(w, err)
	case errors.As(err, &tooLarge):
		br.done()
		rep := refuse(http.StatusRequestEntityTooLarge, zerolog.WarnLevel, "body too large", nil)
		return forge.Request{}, release, &rep
	case err != nil:
		br.done()
		rep := refuse(http.StatusBadRequest, zerolog.InfoLevel, "cannot read body", err)
		return forge.Request{}, release, &rep
	}
	return forge.Request{Header: r.Header, Body: body}, br.done, nil
}

// overBudget answers a delivery refused because the bodies being read hold
// too many bytes already.
func overBudget(w http.ResponseWriter, err error) *reply {
	w.Header().Set("Retry-After", "1")
	rep := refuse(http.StatusServiceUnavailable, zerolog.WarnLevel, "too many bytes in flight, retry later", err)
	return &rep
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
	const limit = 256
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}
