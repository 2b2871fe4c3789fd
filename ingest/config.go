package ingest

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults of Config.
const (
	// DefaultMaxBodyBytes is GitHub's own cap on a webhook payload (25 MB).
	DefaultMaxBodyBytes = 25 << 20
	// DefaultPublishTimeout leaves an answer inside Gitea's default 5 s
	// delivery timeout (GitHub waits 10 s).
	DefaultPublishTimeout = 4 * time.Second
	// DefaultMaxConcurrentBodies is how many deliveries are read and
	// handled at once.
	DefaultMaxConcurrentBodies = 32
	// DefaultMaxBytesInFlight is how many body bytes those deliveries may
	// hold together: enough for two of the largest bodies at once.
	DefaultMaxBytesInFlight = 64 << 20
	// DefaultQueueWait is how long a delivery waits for a free slot
	// before it is answered 503.
	DefaultQueueWait = time.Second
)

// Config configures a Handler. The zero value of MaxBodyBytes,
// PublishTimeout, MaxConcurrentBodies, MaxBytesInFlight and QueueWait means
// their default.
type Config struct {
	// Secrets holds the webhook secrets of each repository, keyed by full
	// name ("owner/name", matched case-insensitively as the hosts do). A
	// delivery verifies if any one matches, so a secret is rotated by
	// adding the new one, updating the host, then removing the old one.
	Secrets map[string][][]byte
	// AllowUnknownRepos accepts deliveries of repositories missing from
	// Secrets, verified against FallbackSecrets. When false they get 403.
	AllowUnknownRepos bool
	// FallbackSecrets verify deliveries of unknown repositories; required
	// when AllowUnknownRepos is set, refused otherwise.
	FallbackSecrets [][]byte
	// MaxBodyBytes caps the size of a delivery's body; larger is 413.
	MaxBodyBytes int64
	// PublishTimeout bounds the wait for Publish; past it the answer is 503.
	PublishTimeout time.Duration
	// MaxConcurrentBodies bounds the deliveries read and handled at once;
	// one finding every slot taken for QueueWait is answered 503 with
	// Retry-After.
	MaxConcurrentBodies int
	// MaxBytesInFlight bounds the body bytes those deliveries hold
	// together; a delivery that would take them past it is answered 503
	// with Retry-After. It is at least MaxBodyBytes.
	MaxBytesInFlight int64
	// QueueWait is how long a delivery waits for a free slot.
	QueueWait time.Duration
	// DefaultBranch is the default branch given to repositories whose host
	// does not name theirs in its payloads (Bitbucket); empty leaves it
	// unknown, and the build workflow then builds no push of theirs.
	DefaultBranch string
}

// DefaultConfig returns a Config with every default set and no secrets.
func DefaultConfig() Config {
	return Config{
		MaxBodyBytes: DefaultMaxBodyBytes, PublishTimeout: DefaultPublishTimeout, DefaultBranch: "main",
		MaxConcurrentBodies: DefaultMaxConcurrentBodies, MaxBytesInFlight: DefaultMaxBytesInFlight, QueueWait: DefaultQueueWait,
	}
}

// withDefaults returns c with zero values replaced by their defaults.
func (c Config) withDefaults() Config {
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = DefaultPublishTimeout
	}
	if c.MaxConcurrentBodies == 0 {
		c.MaxConcurrentBodies = DefaultMaxConcurrentBodies
	}
	if c.MaxBytesInFlight == 0 {
		c.MaxBytesInFlight = max(DefaultMaxBytesInFlight, c.MaxBodyBytes)
	}
	if c.QueueWait == 0 {
		c.QueueWait = DefaultQueueWait
	}
	return c
}

// Validate reports every problem of c at once. Error messages name
// repositories, never secrets.
func (c Config) Validate() error {
	var errs []error
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("max body bytes %d is negative", c.MaxBodyBytes))
	}
	if c.PublishTimeout < 0 || c.QueueWait < 0 {
		errs = append(errs, fmt.Errorf("publish timeout %s, queue wait %s: must not be negative", c.PublishTimeout, c.QueueWait))
	}
	if c.MaxConcurrentBodies < 0 {
		errs = append(errs, fmt.Errorf("max concurrent bodies %d is negative", c.MaxConcurrentBodies))
	}
	if c.MaxBytesInFlight < c.MaxBodyBytes {
		errs = append(errs, fmt.Errorf("max bytes in flight %d is below max body bytes %d: the largest body would never fit", c.MaxBytesInFlight, c.MaxBodyBytes))
	}
	if len(c.Secrets) == 0 && !c.AllowUnknownRepos {
		errs = append(errs, errors.New("no repository secrets and unknown repositories not allowed: every delivery would be refused"))
	}
	errs = append(errs, c.validateRepos()...)
	errs = append(errs, c.validateFallback()...)
	return errors.Join(errs...)
}

func (c Config) validateRepos() []error {
	var errs []error
	seen := make(map[string]string, len(c.Secrets))
	for repo, secrets := range c.Secrets {
		if !validFullName(repo) {
			errs = append(errs, fmt.Errorf("repository %q: want owner/name", repo))
		}
		if other, dup := seen[strings.ToLower(repo)]; dup {
			errs = append(errs, fmt.Errorf("repositories %q and %q differ only in case", other, repo))
		}
		seen[strings.ToLower(repo)] = repo
		if err := validateSecrets(secrets); err != nil {
			errs = append(errs, fmt.Errorf("repository %q: %w", repo, err))
		}
	}
	return errs
}

func (c Config) validateFallback() []error {
	switch {
	case c.AllowUnknownRepos:
		if err := validateSecrets(c.FallbackSecrets); err != nil {
			return []error{fmt.Errorf("fallback secrets: %w", err)}
		}
	case len(c.FallbackSecrets) > 0:
		return []error{errors.New("fallback secrets set but unknown repositories not allowed")}
	}
	return nil
}

func validateSecrets(secrets [][]byte) error {
	if len(secrets) == 0 {
		return errors.New("no secret")
	}
	for i, s := range secrets {
		if len(s) == 0 {
			return fmt.Errorf("secret %d is empty", i+1)
		}
	}
	return nil
}

// validFullName reports whether name looks like "owner/name".
func validFullName(name string) bool {
	owner, repo, ok := strings.Cut(name, "/")
	return ok && owner != "" && repo != "" && strings.TrimSpace(name) == name
}

// secretIndex maps lower-cased full names to their secrets.
func (c Config) secretIndex() map[string][][]byte {
	idx := make(map[string][][]byte, len(c.Secrets))
	for repo, secrets := range c.Secrets {
		idx[strings.ToLower(repo)] = secrets
	}
	return idx
}
