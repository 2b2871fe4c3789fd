package gitea

import "github.com/slipway-dev/slipway/forge"

// Name is the name of the Gitea forge in routes, the registry and
// events.Repo.Forge.
const Name = "gitea"

// Header names, most specific host first: Forgejo also sends the Gitea and
// Gogs headers, Gitea also sends the Gogs ones.
var (
	eventHeaders     = []string{"X-Forgejo-Event", "X-Gitea-Event", "X-Gogs-Event"}
	deliveryHeaders  = []string{"X-Forgejo-Delivery", "X-Gitea-Delivery", "X-Gogs-Delivery"}
	signatureHeaders = []string{"X-Forgejo-Signature", "X-Gitea-Signature", "X-Gogs-Signature"}
)

// headerHubSignature is the GitHub-style signature Gitea and Forgejo also send.
const headerHubSignature = "X-Hub-Signature-256"

// Forge reads Gitea, Forgejo and Gogs webhook deliveries. The zero value is
// ready to use.
type Forge struct{}

var (
	_ forge.Forge   = (*Forge)(nil)
	_ forge.Aliaser = (*Forge)(nil)
)

// New returns the Gitea forge.
func New() *Forge { return &Forge{} }

// Name returns "gitea".
func (*Forge) Name() string { return Name }

// Aliases returns "forgejo" and "gogs": their deliveries are read by this
// forge.
func (*Forge) Aliases() []string { return []string{"forgejo", "gogs"} }

// Repo returns repository.full_name from the unverified body.
func (*Forge) Repo(r forge.Request) (string, error) {
	payload, err := forge.Payload(r)
	if err != nil {
		return "", err
	}
	return forge.RepoFullName(payload)
}

// Verify checks the signature headers against the JSON payload and each
// secret.
func (*Forge) Verify(r forge.Request, secrets [][]byte) error {
	payload, err := forge.Payload(r)
	if err != nil {
		return err
	}
	return verify(r.Header, payload, secrets)
}

// Parse normalises a verified delivery.
func (*Forge) Parse(r forge.Request) (forge.Delivery, error) {
	payload, err := forge.Payload(r)
	if err != nil {
		return forge.Delivery{}, err
	}
	gogs := forge.FirstHeader(r.Header, eventHeaders[:2]...) == ""
	evs, err := parse(forge.FirstHeader(r.Header, eventHeaders...), payload, gogs)
	if err != nil {
		return forge.Delivery{}, err
	}
	return forge.NewDelivery(forge.FirstHeader(r.Header, deliveryHeaders...), evs...), nil
}
