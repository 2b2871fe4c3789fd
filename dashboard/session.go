package dashboard

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/api"
)

// cookieName is the session cookie: the token itself, HttpOnly and
// SameSite=Strict, so no script reads it and no other site sends it.
const cookieName = "slipway_session"

// csrfOf is the CSRF token of a session: an HMAC of a fixed label keyed by
// the session's token, so it is known to the page rendered for that
// session only and changes with the token.
func csrfOf(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("slipway dashboard csrf"))
	return hex.EncodeToString(m.Sum(nil))
}

// session returns the token of the request's cookie and the secret.
func (d *Dashboard) session(r *http.Request) (api.Token, string, error) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return api.Token{}, "", api.ErrUnauthorized
	}
	tok, err := d.Tokens.Verify(r.Context(), c.Value)
	return tok, c.Value, err
}

// page serves h to a logged-in session, or redirects to the login form.
func (d *Dashboard) page(h func(w http.ResponseWriter, r *http.Request, v view)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, secret, err := d.session(r)
		if errors.Is(err, api.ErrUnauthorized) {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if err != nil {
			zerolog.Ctx(r.Context()).Error().Err(err).Msg("dashboard: verify session")
			http.Error(w, "tokens unavailable", http.StatusServiceUnavailable)
			return
		}
		h(w, r, view{Token: tok, CanDeploy: tok.Role.Can(api.RoleDeploy), CSRF: csrfOf(secret)})
	}
}

// action serves h to a POST of a deploy token's session with the CSRF
// token of that session: 403 for a read token or a bad CSRF token.
func (d *Dashboard) action(h func(w http.ResponseWriter, r *http.Request, v view)) http.HandlerFunc {
	return d.post(true, h)
}

// post serves h to a POST carrying the session's CSRF token, of a deploy
// token when deploy is set.
func (d *Dashboard) post(deploy bool, h func(w http.ResponseWriter, r *http.Request, v view)) http.HandlerFunc {
	return d.page(func(w http.ResponseWriter, r *http.Request, v view) {
		if !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(v.CSRF)) {
			http.Error(w, "bad or missing CSRF token: reload the page", http.StatusForbidden)
			return
		}
		if deploy && !v.CanDeploy {
			http.Error(w, "token "+v.Token.Name+" has role read; this needs deploy", http.StatusForbidden)
			return
		}
		h(w, r, v)
	})
}

func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if !localPath(next) {
		next = "/"
	}
	if r.Method == http.MethodGet {
		d.render(w, r, "login", view{Data: map[string]string{"Next": next}})
		return
	}
	secret := r.PostFormValue("token")
	if _, err := d.Tokens.Verify(r.Context(), secret); err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		d.render(w, r, "login", view{Data: map[string]string{"Next": next, "Error": "Unknown or revoked token."}})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: secret, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// localPath reports whether p is a path of this site (no open redirect).
func localPath(p string) bool {
	return len(p) > 0 && p[0] == '/' && (len(p) == 1 || p[1] != '/' && p[1] != '\\')
}
