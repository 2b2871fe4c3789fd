// Package dashboard is Slipway's web dashboard: server-rendered pages
// (html/template, embedded with the stylesheet and a small script; no CDN)
// of the read model — an overview of repositories × environments, a commit
// with its builds and deploys, an environment with its history, rollback
// and the diff of its images to another environment, previews and dead
// letters — refreshed live by server-sent events.
//
// Login posts an API token (package api) once; the session is an HttpOnly,
// SameSite=Strict cookie holding the token, and every POST carries a CSRF
// token derived from it. A read token sees no buttons; an action it posts
// anyway is refused with 403, as the API refuses it.
package dashboard
