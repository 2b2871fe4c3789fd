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
	// Parse is pure: its result names the repository whose secrets verify
	// the delivery, and is acted on only once the delivery is verified.
	d, parseErr := f.Parse(req)
	if rep := h.authenticate(f, req, repoName(d), forge.IsPing(parseErr), log); rep != nil {
		return *rep
	}
	if parseErr != nil {
		return parseFailure(parseErr)
	}
	*log = log.With().Str("delivery", clipLog(d.ID)).Logger()
	return h.publish(r.Context(), f.Name(), d, received, log)
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

// authenticate picks the secrets of the repository the delivery names and
// verifies the signature. repo is the repository of the parsed events; when
// there are none (a ping, an ignored or malformed delivery) the forge reads
// it from the body. A ping naming no repository is verified with every
// configured secret.
func (h *Handler) authenticate(f forge.Forge, req forge.Request, repo string, ping bool, log *zerolog.Logger) *reply {
	if repo == "" {
		var err error
		if repo, err = f.Repo(req); err != nil {
			rep := refuse(http.StatusBadRequest, zerolog.InfoLevel, "malformed payload", err)
			return &rep
		}
	}
	*log = log.With().Str("repo", clipLog(repo)).Logger()
	secrets, ok := h.secretsFor(repo)
	if repo == "" && ping {
		secrets, ok = h.anySecret(), true
	}
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

// clipLog cuts a value read from an unverified request to a length worth a
// log line.
func clipLog(s string) string {
	const max = 256
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
