package swarm

import (
	"github.com/docker/docker/api/types/swarm"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// CandidateSpec returns the service t creates for img of d before its gate,
// for a test that leaves one behind.
func CandidateSpec(t *Target, d deploy.Deployment, img events.Image) swarm.ServiceSpec {
	spec, err := t.serviceSpec(d, img)
	if err != nil {
		panic(err)
	}
	return spec
}
