package docker

import (
	"context"

	"github.com/slipway-dev/slipway/workflows/deploy"
)

// StartCandidates starts the candidates of d and leaves them, as a deploy
// whose process died before the health gate ended does.
func (t *Target) StartCandidates(ctx context.Context, d deploy.Deployment) error {
	_, err := t.startAll(ctx, d, nil, nil, nil)
	return err
}
