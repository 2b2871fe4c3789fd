package forgeapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/notify"
)

// Client is the API of one git host; the notify workflow posts through it.
type Client interface {
	// PostStatus sets the status of a check of a commit.
	PostStatus(ctx context.Context, s notify.Status) error
	// Comment adds a comment to pull request number of repo.
	Comment(ctx context.Context, repo events.Repo, number int, body string) error
	// PullRequestOpen reports whether pull request number is open.
	PullRequestOpen(ctx context.Context, repo events.Repo, number int) (bool, error)
}

var _ notify.Host = Client(nil)

// Kinds of host a Client exists for; a repository's events.Repo.Forge names
// its kind.
const (
	KindGitHub    = "github"
	KindGitea     = "gitea"
	KindGitLab    = "gitlab"
	KindBitbucket = "bitbucket"
)

// DefaultBase is the API base URL of each host kind's public service;
// Gitea has none (it is self-hosted) and uses the repository's host.
var DefaultBase = map[string]string{
	KindGitHub:    "https://api.github.com",
	KindGitLab:    "https://gitlab.com",
	KindBitbucket: "https://api.bitbucket.org",
}

// ErrNoAPI is returned by New for a host kind without a client.
var ErrNoAPI = errors.New("no API client for this git host")

// New returns the client of kind at base (empty: DefaultBase) with token;
// base may be the host's root or its API URL (NormalizeBase). "forgejo"
// and "gogs" are Gitea.
func New(kind, base, token string) (Client, error) {
	if base == "" {
		base = DefaultBase[kind]
	}
	h := newHTTP(NormalizeBase(kind, base), token)
	switch kind {
	case KindGitHub:
		return newGitHub(h), nil
	case KindGitea, "forgejo", "gogs":
		h.auth = func(r *http.Request, token string) { r.Header.Set("Authorization", "token "+token) }
		return newGitea(h), nil
	case KindGitLab:
		h.auth = func(r *http.Request, token string) { r.Header.Set("PRIVATE-TOKEN", token) }
		return &GitLab{h}, nil
	case KindBitbucket:
		return &Bitbucket{h}, nil
	}
	return nil, fmt.Errorf("%q: %w", kind, ErrNoAPI)
}

// ownerName splits "owner/name"; GitLab's nested groups keep every part
// before the last in owner.
func ownerName(fullName string) (string, string, error) {
	i := strings.LastIndex(fullName, "/")
	if i <= 0 || i == len(fullName)-1 {
		return "", "", fmt.Errorf("repository %q is not owner/name", fullName)
	}
	return fullName[:i], fullName[i+1:], nil
}

// clip shortens s to n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}
