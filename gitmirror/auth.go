package gitmirror

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/slipway-dev/slipway/events"
)

// ErrAuth is wrapped by the error of a git network operation the host
// refused for want of valid credentials: a wrong, expired or missing token
// or deploy key. Such an error is events.Permanent.
var ErrAuth = errors.New("authentication failed")

// ErrHostKey is wrapped by the error of an SSH fetch whose host's key is
// not the one pinned in the deploy key's known_hosts file. Such an error
// is events.Permanent.
var ErrHostKey = errors.New("host key verification failed")

// WithCredentials has the Mirror authenticate its fetches with c: a token
// goes to git as an http.extraHeader in the environment of that git
// process only (GIT_CONFIG_KEY_n), a deploy key as its GIT_SSH_COMMAND.
// Neither ever reaches a command line, a file of the mirror or an error.
func WithCredentials(c *Credentials) Option {
	return func(m *Mirror) { m.creds = c }
}

// access is how one git network operation reaches a repository.
type access struct {
	repo    string
	url     string      // the URL git is given
	env     []string    // added to git's environment
	cred    *Credential // nil: none
	secrets []string    // scrubbed from git's messages
}

// access returns how to reach repo: with its credential, if any.
func (m *Mirror) access(repo events.Repo) (access, error) {
	a := access{repo: repo.FullName, url: repo.CloneURL, cred: m.creds.lookup(repo)}
	switch {
	case a.cred == nil:
		return a, nil
	case a.cred.isToken():
		return a, a.withToken()
	}
	return a, a.withKey()
}

// withToken sends the token as basic authentication to the clone URL's
// origin only.
func (a *access) withToken() error {
	u, err := url.Parse(a.url)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return events.Permanent(fmt.Errorf("repository %s: the %s is for HTTPS, but the clone URL %s is not", a.repo, a.cred.Name, redactURL(a.url)))
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return events.Permanent(fmt.Errorf("repository %s: refusing to send the %s over plain http to %s", a.repo, a.cred.Name, u.Host))
	}
	basic := base64.StdEncoding.EncodeToString([]byte(a.cred.User + ":" + a.cred.Token))
	a.env = []string{
		"GIT_CONFIG_KEY_{n}=http." + u.Scheme + "://" + u.Host + "/.extraHeader",
		"GIT_CONFIG_VALUE_{n}=Authorization: Basic " + basic,
		"GIT_TRACE_REDACT=1",
	}
	a.secrets = []string{basic, a.cred.Token}
	return nil
}

// withKey fetches over SSH with the deploy key only, trusting only the
// pinned host keys.
func (a *access) withKey() error {
	if !isSSH(a.url) || (a.cred.SSHURL != "" && a.cred.perRepo) {
		sshURL, err := a.sshURL()
		if err != nil {
			return err
		}
		a.url = sshURL
	}
	a.env = []string{"GIT_SSH_COMMAND=ssh -F none -i " + shellQuote(a.cred.SSHKey) +
		" -o IdentitiesOnly=yes -o IdentityAgent=none -o UserKnownHostsFile=" + shellQuote(a.cred.KnownHosts) +
		" -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o UpdateHostKeys=no" +
		" -o BatchMode=yes -o ConnectTimeout=30 -o ServerAliveInterval=15 -o ServerAliveCountMax=4"}
	return nil
}

// sshURL is the SSH URL of the repository: the credential's own on a repo
// line, else the credential's base (or ssh://git@<host>) and the clone
// URL's path.
func (a *access) sshURL() (string, error) {
	if a.cred.SSHURL != "" && a.cred.perRepo {
		return a.cred.SSHURL, nil
	}
	u, err := url.Parse(a.url)
	if err != nil || u.Host == "" {
		return "", events.Permanent(fmt.Errorf("repository %s: cannot derive an SSH URL for the %s from the clone URL %s", a.repo, a.cred.Name, redactURL(a.url)))
	}
	base := a.cred.SSHURL
	if base == "" {
		base = "ssh://git@" + u.Hostname()
	}
	return strings.TrimSuffix(base, "/") + u.Path, nil
}

// environ returns env with a's additions; a token's configuration takes the
// index after any GIT_CONFIG_COUNT the operator set.
func (a *access) environ(env []string) []string {
	if len(a.env) == 0 {
		return env
	}
	n := 0
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GIT_CONFIG_COUNT="); ok {
			n, _ = strconv.Atoi(v)
		}
	}
	out := append([]string(nil), env...)
	added := false
	for _, kv := range a.env {
		if strings.Contains(kv, "{n}") {
			kv, added = strings.ReplaceAll(kv, "{n}", strconv.Itoa(n)), true
		}
		out = append(out, kv)
	}
	if added {
		out = append(out, "GIT_CONFIG_COUNT="+strconv.Itoa(n+1))
	}
	return out
}

// classify turns the failure of a git network operation that the host
// refused into a permanent error naming the repository and the credential
// (never its value) and quoting git's line that says why; other errors are
// returned unchanged.
func (a *access) classify(err error) error {
	var ge *gitError
	if err == nil || !errors.As(err, &ge) {
		return err
	}
	url := redactURL(a.url)
	if why := lineWith(ge.stderr, hostKeyFailures); why != "" {
		if a.cred == nil {
			return events.Permanent(fmt.Errorf("repository %s: %w: the SSH host key of %s is not known: %s", a.repo, ErrHostKey, url, why))
		}
		return events.Permanent(fmt.Errorf("repository %s: %w: the SSH host key of %s is not one pinned in %s (%s): %s", a.repo, ErrHostKey, url, a.cred.KnownHosts, a.cred.Name, why))
	}
	if why := lineWith(ge.stderr, authFailures); why != "" {
		if a.cred == nil {
			return events.Permanent(fmt.Errorf("repository %s: %w: %s asks for credentials and none is configured for the repository or its host (-git-credentials): %s", a.repo, ErrAuth, url, why))
		}
		return events.Permanent(fmt.Errorf("repository %s: %w: %s refused the %s: %s", a.repo, ErrAuth, url, a.cred.Name, why))
	}
	return err
}

// hostKeyFailures and authFailures are what git and ssh say (lower-cased)
// when a host's key is not the pinned one, and when the host refuses the
// credentials or asks for some.
var (
	hostKeyFailures = []string{"host key verification failed", "remote host identification has changed"}
	authFailures    = []string{"authentication failed", "could not read username", "could not read password",
		"returned error: 401", "returned error: 403", "permission denied (publickey", "permission denied, please try again"}
)

// lineWith returns the first line of s holding subs[0] (lower-case), else
// subs[1] and so on, or "".
func lineWith(s string, subs []string) string {
	lines := strings.Split(s, "\n")
	for _, sub := range subs {
		for _, line := range lines {
			if strings.Contains(strings.ToLower(line), sub) {
				return strings.TrimSpace(line)
			}
		}
	}
	return ""
}

// urlHost returns the lower-case host and port of a clone URL, also of an
// scp-style address (git@host:owner/repo.git).
func urlHost(rawURL string) (host, port string) {
	if u, err := url.Parse(rawURL); err == nil && u.Host != "" {
		return strings.ToLower(u.Hostname()), u.Port()
	}
	if at, rest, ok := strings.Cut(rawURL, "@"); ok && !strings.Contains(at, "/") {
		rawURL = rest
	}
	if h, _, ok := strings.Cut(rawURL, ":"); ok && !strings.Contains(h, "/") {
		return strings.ToLower(h), ""
	}
	return "", ""
}

// isSSH reports whether rawURL is reached over SSH.
func isSSH(rawURL string) bool {
	if u, err := url.Parse(rawURL); err == nil && u.Scheme != "" {
		return u.Scheme == "ssh" || u.Scheme == "git+ssh" || u.Scheme == "ssh+git"
	}
	h, _ := urlHost(rawURL)
	return h != ""
}

// isLoopback reports whether host is this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// shellQuote quotes s for the shell git runs GIT_SSH_COMMAND with.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
