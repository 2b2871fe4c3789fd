package github

import (
	"fmt"

	"github.com/slipway-dev/slipway/forge"
)

// Name is the name of the GitHub forge in routes, the registry and
// events.Repo.Forge.
const Name = "github"

// Headers GitHub sends with every delivery.
const (
	headerEvent     = "X-GitHub-Event"
	headerDelivery  = "X-GitHub-Delivery"
	headerSignature = "X-Hub-Signature-256"
	headerSHA1      = "X-Hub-Signature"
)

// foreignEventHeaders are sent by Gitea, Forgejo and Gogs along with their
// copy of X-GitHub-Event.
var foreignEventHeaders = []string{"X-Gitea-Event", "X-Forgejo-Event", "X-Gogs-Event"}

// Forge reads GitHub webhook deliveries. The zero value is ready to use and
// accepts SHA-256 signatures only.
type Forge struct {
	sha1 bool
}

var _ forge.Forge = (*Forge)(nil)

// Option configures a Forge.
type Option func(*Forge)

// WithSHA1 accepts deliveries signed only with the legacy HMAC-SHA1
// X-Hub-Signature (old GitHub Enterprise Server). Off by default: SHA-1
// signatures are weaker and GitHub sends SHA-256 alongside.
func WithSHA1() Option { return func(f *Forge) { f.sha1 = true } }

// New returns the GitHub forge.
func New(opts ...Option) *Forge {
	f := &Forge{}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Name returns "github".
func (*Forge) Name() string { return Name }

// Repo returns repository.full_name from the unverified body.
func (*Forge) Repo(r forge.Request) (string, error) {
	payload, err := forge.Payload(r)
	if err != nil {
		return "", err
	}
	return forge.RepoFullName(payload)
}

// Verify checks X-Hub-Signature-256 (or, if enabled and alone, the SHA-1
// X-Hub-Signature) against the raw body and each secret.
func (f *Forge) Verify(r forge.Request, secrets [][]byte) error {
	return verify(r.Header, r.Body, secrets, f.sha1)
}

// Parse normalises a verified delivery.
func (*Forge) Parse(r forge.Request) (forge.Delivery, error) {
	if h := forge.FirstHeader(r.Header, foreignEventHeaders...); h != "" {
		return forge.Delivery{}, fmt.Errorf("%w: a Gitea, Forgejo or Gogs delivery: send it to /webhooks/gitea", forge.ErrMalformed)
	}
	payload, err := forge.Payload(r)
	if err != nil {
		return forge.Delivery{}, err
	}
	evs, err := parse(r.Header.Get(headerEvent), payload)
	if err != nil {
		return forge.Delivery{}, err
	}
	return forge.NewDelivery(r.Header.Get(headerDelivery), evs...), nil
}
