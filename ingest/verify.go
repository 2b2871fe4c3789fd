package ingest

import (
	"bytes"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/forge"
)

// signer is the holder of the secrets that verified a delivery: a
// configured repository (by lower-cased full name), or the fallback
// secrets when repo is "".
type signer struct {
	repo    string
	secrets [][]byte
}

// newSigners lists the configured repositories in sorted order, then the
// fallback secrets when unknown repositories are allowed, and indexes the
// repositories by lower-cased name.
func newSigners(cfg Config) ([]signer, map[string]int) {
	var all []signer
	for name, secrets := range cfg.Secrets {
		all = append(all, signer{repo: strings.ToLower(name), secrets: secrets})
	}
	slices.SortFunc(all, func(a, b signer) int { return strings.Compare(a.repo, b.repo) })
	index := make(map[string]int, len(all))
	for i, s := range all {
		index[s.repo] = i
	}
	if cfg.AllowUnknownRepos {
		all = append(all, signer{secrets: cfg.FallbackSecrets})
	}
	return all, index
}

// verifyRaw checks the delivery's signature over the raw bytes, before
// anything decodes the body, against the secrets of each configured
// repository and the fallback ones, and returns the first holder whose
// secrets match. The secret depends on the repository the body names, so
// the repositories named by a JSON string of the body are tried first (in
// one linear pass that looks for strings, never decodes, and only saves
// work), then every other. A delivery matching no secret is an error,
// ErrMissingSignature when it carries no signature at all.
func (h *Handler) verifyRaw(f forge.Forge, req forge.Request) (signer, error) {
	var firstErr error
	tried := make([]bool, len(h.signers))
	try := func(i int) (bool, error) {
		tried[i] = true
		err := f.Verify(req, h.signers[i].secrets)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return err == nil, err
	}
	var found, missing bool
	var s signer
	namedStrings(req.Body, func(name []byte) bool {
		i, ok := h.signerIndex[string(name)]
		if !ok || tried[i] {
			return true
		}
		ok, err := try(i)
		found, missing, s = ok, errors.Is(err, forge.ErrMissingSignature), h.signers[i]
		return !found && !missing
	})
	switch {
	case found:
		return s, nil
	case missing:
		return signer{}, firstErr
	}
	for i, s := range h.signers {
		if tried[i] {
			continue
		}
		ok, err := try(i)
		switch {
		case ok:
			return s, nil
		case errors.Is(err, forge.ErrMissingSignature):
			return signer{}, err
		}
	}
	if firstErr == nil {
		firstErr = forge.ErrBadSignature
	}
	return signer{}, firstErr
}

// namedStrings calls yield, until it returns false, with each string of a
// JSON body that could be a repository's full name (an unescaped string of
// at most 256 bytes holding a "/"), lower-cased. It scans the bytes once
// and decodes nothing.
func namedStrings(body []byte, yield func([]byte) bool) {
	var buf [256]byte
	for i := 0; i < len(body); i++ {
		if body[i] != '"' {
			continue
		}
		end := bytes.IndexByte(body[i+1:], '"')
		if end < 0 {
			return
		}
		str := body[i+1 : i+1+end]
		if bytes.IndexByte(str, '\\') >= 0 {
			continue // an escape: the quote found may not end the string
		}
		i += end + 1
		if len(str) > len(buf) || bytes.IndexByte(str, '/') < 0 {
			continue
		}
		for j, c := range str {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[j] = c
		}
		if !yield(buf[:len(str)]) {
			return
		}
	}
}

// authorise checks, once the delivery is verified and parsed, that the
// repository it names holds a secret that signs it: 403 when the repository
// is not configured and unknown ones are not allowed, 401 when none of its
// secrets (or, for an unknown repository, none of the fallback ones) does.
// The holder verifyRaw found first is usually that repository; when it is
// another (one sharing its secret), the repository's own secrets are
// checked. A ping naming no repository only proves the sender knows one of
// the secrets, and publishes nothing.
func (h *Handler) authorise(f forge.Forge, req forge.Request, signed signer, repo string, ping bool) *reply {
	key := strings.ToLower(repo)
	secrets, configured := h.secrets[key]
	switch {
	case repo == "" && ping:
		return nil
	case !configured && !h.cfg.AllowUnknownRepos:
		rep := refuse(http.StatusForbidden, zerolog.WarnLevel, "repository not configured", nil)
		return &rep
	case !configured:
		key, secrets = "", h.cfg.FallbackSecrets
	}
	if signed.repo == key {
		return nil
	}
	if err := f.Verify(req, secrets); err != nil {
		rep := refuse(http.StatusUnauthorized, zerolog.WarnLevel, "signature missing or invalid",
			errors.New("signed with the secret of another repository"))
		return &rep
	}
	return nil
}
