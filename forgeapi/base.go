package forgeapi

import (
	"net/url"
	"strings"
)

// apiPaths are the API path each host kind's base may end in: given either
// the host's root or its API URL, the client is the same.
var apiPaths = map[string]string{
	KindGitea:     "/api/v1",
	"forgejo":     "/api/v1",
	"gogs":        "/api/v1",
	KindGitLab:    "/api/v4",
	KindBitbucket: "/2.0",
}

// NormalizeBase returns the base URL a client of kind wants, from the host's
// root or its API URL: Gitea's, GitLab's and Bitbucket's clients add their
// API path (/api/v1, /api/v4, /2.0) themselves, so one given is dropped;
// GitHub's API of github.com is api.github.com (an Enterprise server's,
// https://<host>/api/v3, is given as such); Bitbucket Cloud's is
// api.bitbucket.org.
func NormalizeBase(kind, base string) string {
	base = strings.TrimRight(strings.TrimSpace(base), "/")
	if p, ok := apiPaths[kind]; ok {
		base = strings.TrimSuffix(base, p)
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return base
	}
	switch {
	case kind == KindGitHub && strings.EqualFold(u.Host, "github.com"):
		return DefaultBase[KindGitHub]
	case kind == KindBitbucket && strings.EqualFold(u.Host, "bitbucket.org"):
		return DefaultBase[KindBitbucket]
	}
	return base
}
