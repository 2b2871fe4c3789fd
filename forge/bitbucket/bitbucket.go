package bitbucket

import (
	"github.com/slipway-dev/slipway/forge"
)

// Name is the name of the Bitbucket Cloud forge in routes, the registry and
// events.Repo.Forge.
const Name = "bitbucket"

// Headers Bitbucket Cloud sends.
const (
	headerEvent     = "X-Event-Key"
	headerDelivery  = "X-Request-UUID"
	headerSignature = "X-Hub-Signature"
)

// Forge reads Bitbucket Cloud webhook deliveries. The zero value is ready to
// use.
type Forge struct{}

var _ forge.Forge = (*Forge)(nil)

// New returns the Bitbucket Cloud forge.
func New() *Forge { return &Forge{} }

// Name returns "bitbucket".
func (*Forge) Name() string { return Name }

// Repo returns repository.full_name from the unverified body.
func (*Forge) Repo(r forge.Request) (string, error) {
	return forge.RepoFullName(r.Body)
}

// Verify checks X-Hub-Signature ("sha256=<hex>") against the raw body and
// each secret.
func (*Forge) Verify(r forge.Request, secrets [][]byte) error {
	return forge.VerifySHA256Header(r.Header, headerSignature, r.Body, secrets)
}

// Parse normalises a verified delivery.
func (*Forge) Parse(r forge.Request) (forge.Delivery, error) {
	evs, err := parse(r.Header.Get(headerEvent), r.Body)
	if err != nil {
		return forge.Delivery{}, err
	}
	return forge.NewDelivery(r.Header.Get(headerDelivery), evs...), nil
}
