package forge

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/slipway-dev/slipway/events"
)

// Git ref prefixes.
const (
	branchPrefix = "refs/heads/"
	tagPrefix    = "refs/tags/"
)

// Push holds what a forge reads from a push payload, before the rules shared
// by every host are applied by Normalise.
type Push struct {
	Forge         string
	FullName      string
	CloneURL      string
	DefaultBranch string
	Ref           string
	Before        string
	After         string
	// Deleted is the host's own deletion flag; an all-zero After also means
	// the ref was deleted.
	Deleted bool
	Forced  bool
	Pusher  string
	Message string
}

// Normalise applies the rules every forge shares and returns the event:
// a push to a tag is ignored (ReasonTag), a deleted branch is ignored
// (ReasonBranchDeleted), any other non-branch ref is ignored
// (ReasonNotBranch); a missing repository, a commit id that is not lower-case
// hex or an unusable clone URL is ErrMalformed. Credentials are stripped from
// the clone URL.
func (p Push) Normalise() (*events.PushReceived, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	switch {
	case strings.HasPrefix(p.Ref, tagPrefix):
		return nil, events.Ignored(ReasonTag)
	case !strings.HasPrefix(p.Ref, branchPrefix) || p.Ref == branchPrefix:
		return nil, events.Ignored(ReasonNotBranch)
	case p.Deleted || IsZeroSHA(p.After):
		return nil, events.Ignored(ReasonBranchDeleted)
	}
	cloneURL, err := StripCredentials(p.CloneURL)
	if err != nil {
		return nil, err
	}
	return &events.PushReceived{
		Repo: events.Repo{
			Forge:         p.Forge,
			FullName:      p.FullName,
			CloneURL:      cloneURL,
			DefaultBranch: p.DefaultBranch,
		},
		Ref:     p.Ref,
		Branch:  strings.TrimPrefix(p.Ref, branchPrefix),
		Before:  p.Before,
		After:   p.After,
		Forced:  p.Forced,
		Pusher:  p.Pusher,
		Message: p.Message,
	}, nil
}

func (p Push) validate() error {
	switch {
	case p.FullName == "":
		return fmt.Errorf("%w: push without repository.full_name", ErrMalformed)
	case p.Ref == "":
		return fmt.Errorf("%w: push without ref", ErrMalformed)
	case p.CloneURL == "":
		return fmt.Errorf("%w: push without repository.clone_url", ErrMalformed)
	case !IsSHA(p.After):
		return fmt.Errorf("%w: push after %.80q is not a commit id", ErrMalformed, p.After)
	case p.Before != "" && !IsSHA(p.Before):
		return fmt.Errorf("%w: push before %.80q is not a commit id", ErrMalformed, p.Before)
	}
	return nil
}

// IsSHA reports whether s is a full lower-case hex git object id: 40 digits
// (SHA-1) or 64 (SHA-256 repositories).
func IsSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// IsZeroSHA reports whether s is an object id made only of zeros, which hosts
// send as the "after" of a deleted ref and the "before" of a new one.
func IsZeroSHA(s string) bool {
	return s != "" && strings.Trim(s, "0") == ""
}

// cloneSchemes are the URL schemes a clone URL may use.
var cloneSchemes = map[string]bool{"https": true, "http": true, "ssh": true, "git": true}

// StripCredentials returns rawURL without user info, query or fragment: a
// clone URL needs none of them and they are where tokens hide. A URL that is
// not an absolute http(s), ssh or git URL is ErrMalformed.
func StripCredentials(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || !cloneSchemes[u.Scheme] || u.Host == "" {
		return "", fmt.Errorf("%w: clone url is not an absolute http(s), ssh or git url", ErrMalformed)
	}
	u.User = nil
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	return u.String(), nil
}
