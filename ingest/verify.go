package ingest

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/forge"
)

// signers is what a verified signature proves: which configured
// repositories (by lower-cased full name) own a secret that matches it, and
// whether a fallback secret does.
type signers struct {
	repos    []string
	fallback bool
}

// verifyRaw checks the delivery's signature over the raw bytes against
// every configured secret, before anything reads the body: the secret
// depends on the repository the body names, and no byte of an unverified
// body is parsed. A delivery whose signature matches no secret is an error
// (ErrMissingSignature when it carries none).
func (h *Handler) verifyRaw(f forge.Forge, req forge.Request) (signers, error) {
	var s signers
	var firstErr error
	for _, repo := range h.repos {
		err := f.Verify(req, h.secrets[repo])
		if err == nil {
			s.repos = append(s.repos, repo)
			continue
		}
		if errors.Is(err, forge.ErrMissingSignature) {
			return s, err
		}
		firstErr = firstOf(firstErr, err)
	}
	if h.cfg.AllowUnknownRepos {
		err := f.Verify(req, h.cfg.FallbackSecrets)
		s.fallback = err == nil
		firstErr = firstOf(firstErr, err)
	}
	if len(s.repos) == 0 && !s.fallback {
		if firstErr == nil {
			firstErr = forge.ErrBadSignature
		}
		return s, firstErr
	}
	return s, nil
}

func firstOf(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// authorise checks, once the delivery is verified and parsed, that the
// repository it names is one whose secret signed it: 403 when the
// repository is not configured and unknown ones are not allowed, 401 when
// another repository's secret (or the fallback, for a configured
// repository) signed it. A ping naming no repository only proves the sender
// knows one of the secrets, and publishes nothing.
func (h *Handler) authorise(s signers, repo string, ping bool) *reply {
	key := strings.ToLower(repo)
	_, configured := h.secrets[key]
	switch {
	case repo == "" && ping:
		return nil
	case configured && slices.Contains(s.repos, key):
		return nil
	case !configured && !h.cfg.AllowUnknownRepos:
		rep := refuse(http.StatusForbidden, zerolog.WarnLevel, "repository not configured", nil)
		return &rep
	case !configured && s.fallback:
		return nil
	}
	rep := refuse(http.StatusUnauthorized, zerolog.WarnLevel, "signature missing or invalid",
		errors.New("signed with the secret of another repository"))
	return &rep
}
