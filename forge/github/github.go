package github

import "github.com/slipway-dev/slipway/forge"

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

// Forge reads GitHub webhook deliveries. The zero value is ready to use.
type Forge struct{}

var _ forge.Forge = (*Forge)(nil)

// New returns the GitHub forge.
func New() *Forge { return &Forge{} }

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

// Verify checks X-Hub-Signature-256 against the raw body and each secret.
func (*Forge) Verify(r forge.Request, secrets [][]byte) error {
	return verify(r.Header, r.Body, secrets)
}

// Parse normalises a verified delivery.
func (*Forge) Parse(r forge.Request) (forge.Delivery, error) {
	payload, err := forge.Payload(r)
	if err != nil {
		return forge.Delivery{}, err
	}
	e, err := parse(r.Header.Get(headerEvent), payload)
	if err != nil {
		return forge.Delivery{}, err
	}
	return forge.NewDelivery(r.Header.Get(headerDelivery), e), nil
}
