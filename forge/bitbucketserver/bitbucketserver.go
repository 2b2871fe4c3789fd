package bitbucketserver

import (
	"strings"

	"github.com/slipway-dev/slipway/forge"
)

// Name is the name of the Bitbucket Server forge in routes, the registry and
// events.Repo.Forge.
const Name = "bitbucketserver"

// Headers Bitbucket Server sends.
const (
	headerEvent     = "X-Event-Key"
	headerDelivery  = "X-Request-Id"
	headerSignature = "X-Hub-Signature"
)

// Forge reads Bitbucket Server and Data Center webhook deliveries. Build it
// with New.
type Forge struct {
	base string
}

var _ forge.Forge = (*Forge)(nil)

// Option configures a Forge.
type Option func(*Forge)

// WithBaseURL sets the server's base URL ("https://bitbucket.example.com"),
// from which clone URLs are built when a payload has none.
func WithBaseURL(base string) Option {
	return func(f *Forge) { f.base = strings.TrimSuffix(base, "/") }
}

// New returns the Bitbucket Server forge.
func New(opts ...Option) *Forge {
	f := &Forge{}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Name returns "bitbucketserver".
func (*Forge) Name() string { return Name }

// Repo returns "<project key>/<slug>" of the repository the delivery is
// about (the target of a pull request) from the unverified body.
func (*Forge) Repo(r forge.Request) (string, error) {
	var p struct {
		Repository  *repository `json:"repository"`
		PullRequest *struct {
			ToRef struct {
				Repository *repository `json:"repository"`
			} `json:"toRef"`
		} `json:"pullRequest"`
	}
	if err := forge.Decode(r.Body, &p); err != nil {
		return "", err
	}
	switch {
	case p.Repository != nil:
		return p.Repository.fullName(), nil
	case p.PullRequest != nil && p.PullRequest.ToRef.Repository != nil:
		return p.PullRequest.ToRef.Repository.fullName(), nil
	}
	return "", nil
}

// Verify checks X-Hub-Signature ("sha256=<hex>") against the raw body and
// each secret.
func (*Forge) Verify(r forge.Request, secrets [][]byte) error {
	return forge.VerifySHA256Header(r.Header, headerSignature, r.Body, secrets)
}

// Parse normalises a verified delivery.
func (f *Forge) Parse(r forge.Request) (forge.Delivery, error) {
	evs, err := parse(r.Header.Get(headerEvent), r.Body, f.base)
	if err != nil {
		return forge.Delivery{}, err
	}
	return forge.NewDelivery(r.Header.Get(headerDelivery), evs...), nil
}
