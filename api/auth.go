package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/rs/zerolog"
)

type tokenKey struct{}

// WithToken returns ctx carrying the authenticated token.
func WithToken(ctx context.Context, t Token) context.Context {
	return context.WithValue(ctx, tokenKey{}, t)
}

// TokenOf returns the token that authenticated the request of ctx.
func TokenOf(ctx context.Context) (Token, bool) {
	t, ok := ctx.Value(tokenKey{}).(Token)
	return t, ok
}

// bearer returns the token of an Authorization: Bearer header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// require serves h to requests whose bearer token has role need: 401
// without a valid token, 403 with one of a lesser role.
func (s *Server) require(need Role, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		secret := bearer(r)
		if secret == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="slipway"`)
			writeError(w, http.StatusUnauthorized, "a bearer token is required (slipway token create)")
			return
		}
		tok, err := s.Tokens.Verify(r.Context(), secret)
		if errors.Is(err, ErrUnauthorized) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="slipway", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, err.Error())
			return
		}
		if err != nil {
			zerolog.Ctx(r.Context()).Error().Err(err).Msg("api: verify token")
			writeError(w, http.StatusServiceUnavailable, "tokens unavailable")
			return
		}
		if !tok.Role.Can(need) {
			writeError(w, http.StatusForbidden, "token "+tok.Name+" has role "+string(tok.Role)+"; this needs "+string(need))
			return
		}
		h(w, r.WithContext(WithToken(r.Context(), tok)))
	}
}
