package pipeline

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// orderDeploys gives the deploy workflow its per-environment locks, the
// queue of requests (latest wins) and git ancestry (never move back). The
// deployer keeps git mirrors of its own under <mirror-dir>/deployer, so that
// it never fetches into a mirror a builder of the same process is using.
func orderDeploys(ctx context.Context, cfg *Config, c *Conn, h *deploy.Handler) error {
	kv, err := c.JS.KeyValue(ctx, natsjs.BucketLocks)
	if err != nil {
		return fmt.Errorf("open %s: %w", natsjs.BucketLocks, err)
	}
	mirror, err := cfg.newMirror(filepath.Join(cfg.mirrorDir(), "deployer"))
	if err != nil {
		return err
	}
	h.Locks = natsstore.NewEnvLocks(kv, holderID(c.name)).Succeeding(c.identity, bootID)
	h.Queue = natsstore.NewDeployQueue(c.JS)
	h.Ancestry = mirror
	h.Config.LockTTL = cfg.LockTTL
	return nil
}
