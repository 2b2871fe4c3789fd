package forge

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/slipway-dev/slipway/events"
)

// NewRepo returns the events.Repo of a repository of forge, with the
// credentials stripped from its clone URL. A missing name, an unusable
// clone URL or a default branch git would refuse is ErrMalformed.
func NewRepo(forge, fullName, cloneURL, defaultBranch string) (events.Repo, error) {
	if fullName == "" {
		return events.Repo{}, fmt.Errorf("%w: no repository name", ErrMalformed)
	}
	clean, err := StripCredentials(cloneURL)
	if err != nil {
		return events.Repo{}, err
	}
	if branch := strings.TrimPrefix(defaultBranch, BranchPrefix); branch != "" {
		if err := ValidateBranch(branch); err != nil {
			return events.Repo{}, fmt.Errorf("default %w", err)
		}
	}
	return events.Repo{
		Forge:         forge,
		FullName:      clip(fullName, maxText),
		CloneURL:      clean,
		DefaultBranch: clip(strings.TrimPrefix(defaultBranch, BranchPrefix), maxText),
	}, nil
}

// StripCredentials returns rawURL without user info, query or fragment: a
// clone URL needs none of them and they are where tokens hide. A URL that is
// not an absolute http(s), ssh or git URL, or whose host begins with "-" (git
// would pass it to ssh as an option: "ssh://x@-oProxyCommand=...") or holds
// a control character (events.CheckCloneURL), is ErrMalformed.
func StripCredentials(rawURL string) (string, error) {
	if err := events.CheckCloneURL(rawURL); err != nil {
		return "", fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	u.User = nil
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	return u.String(), nil
}

// clip returns s cut to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
