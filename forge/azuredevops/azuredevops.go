package azuredevops

import (
	"github.com/slipway-dev/slipway/forge"
)

// Name is the name of the Azure DevOps forge in routes, the registry and
// events.Repo.Forge.
const Name = "azuredevops"

// Forge reads Azure DevOps service hook deliveries. The zero value is ready
// to use.
type Forge struct{}

var _ forge.Forge = (*Forge)(nil)

// New returns the Azure DevOps forge.
func New() *Forge { return &Forge{} }

// Name returns "azuredevops".
func (*Forge) Name() string { return Name }

// Repo returns "<project>/<repository>" from the unverified body.
func (*Forge) Repo(r forge.Request) (string, error) {
	var p struct {
		Resource struct {
			Repository *repository `json:"repository"`
		} `json:"resource"`
	}
	if err := forge.Decode(r.Body, &p); err != nil {
		return "", err
	}
	if p.Resource.Repository == nil {
		return "", nil
	}
	return p.Resource.Repository.fullName(), nil
}

// Verify checks the Basic auth credentials against each secret.
func (*Forge) Verify(r forge.Request, secrets [][]byte) error {
	return verify(r.Header, secrets)
}

// Parse normalises a verified delivery.
func (*Forge) Parse(r forge.Request) (forge.Delivery, error) {
	id, evs, err := parse(r.Body)
	if err != nil {
		return forge.Delivery{}, err
	}
	return forge.NewDelivery(id, evs...), nil
}
