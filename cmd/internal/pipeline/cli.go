package pipeline

import (
	"context"

	"github.com/slipway-dev/slipway/natsstore"
)

// Claims returns the claims store, for the operator's commands that read
// what was built and deployed.
func (c *Conn) Claims(ctx context.Context) (*natsstore.Claims, error) { return c.claims(ctx) }
