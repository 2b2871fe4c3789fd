package events

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// MaxCloneURL is the longest clone URL accepted.
const MaxCloneURL = 4096

// cloneSchemes are the URL schemes a clone URL may use: never file:// or a
// git transport helper such as ext::.
var cloneSchemes = map[string]bool{"https": true, "http": true, "ssh": true, "git": true}

// CheckCloneURL accepts an absolute http(s), ssh or git URL with a host.
// The webhook receiver checks it of what a git host sent; a worker checks
// it again of what it consumed, so a message on the bus never makes a
// worker read a local path. The error does not repeat the URL, which may
// hold credentials.
func CheckCloneURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !cloneSchemes[u.Scheme] || u.Host == "" || len(raw) > MaxCloneURL {
		return errors.New("clone url is not an absolute http(s), ssh or git url")
	}
	// git hands an ssh host to ssh as an argument: "ssh://x@-oProxyCommand=…"
	// would be an option.
	if host := u.Hostname(); host == "" || strings.HasPrefix(host, "-") ||
		strings.ContainsFunc(host, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return errors.New("clone url host is empty, begins with \"-\" or holds a control character")
	}
	return nil
}

// CheckSHA accepts a commit id of git: 40 (SHA-1) or 64 (SHA-256)
// lower-case hex digits.
func CheckSHA(sha string) error {
	if (len(sha) != 40 && len(sha) != 64) || strings.Trim(sha, "0123456789abcdef") != "" {
		return fmt.Errorf("commit id %q: want 40 or 64 lower-case hex digits", clipID(sha))
	}
	return nil
}

// CheckCommit checks what a worker is asked to fetch: a named repository,
// its clone URL and the commit id.
func CheckCommit(repo Repo, sha string) error {
	if repo.FullName == "" {
		return errors.New("repository has no name")
	}
	if err := CheckCloneURL(repo.CloneURL); err != nil {
		return fmt.Errorf("repository %s: %w", repo.FullName, err)
	}
	return CheckSHA(sha)
}

// clipID keeps an error about a bad id short.
func clipID(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
