package generic

import (
	"github.com/slipway-dev/slipway/forge"
)

// Name is the name of the generic forge in routes, the registry and
// events.Repo.Forge.
const Name = "generic"

// HeaderSignature carries "sha256=<hex HMAC-SHA256 of the raw body>".
const HeaderSignature = "X-Slipway-Signature"

// Forge reads deliveries of the generic format. The zero value is ready to
// use.
type Forge struct{}

var _ forge.Forge = (*Forge)(nil)

// New returns the generic forge.
func New() *Forge { return &Forge{} }

// Name returns "generic".
func (*Forge) Name() string { return Name }

// Repo returns repository.full_name from the unverified body.
func (*Forge) Repo(r forge.Request) (string, error) {
	return forge.RepoFullName(r.Body)
}

// Verify checks X-Slipway-Signature against the raw body and each secret.
func (*Forge) Verify(r forge.Request, secrets [][]byte) error {
	return forge.VerifySHA256Header(r.Header, HeaderSignature, r.Body, secrets)
}

// Parse normalises a verified delivery.
func (*Forge) Parse(r forge.Request) (forge.Delivery, error) {
	id, evs, err := parse(r.Body)
	if err != nil {
		return forge.Delivery{}, err
	}
	return forge.NewDelivery(id, evs...), nil
}
