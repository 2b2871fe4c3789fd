package pipeline

import (
	"context"
	"fmt"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/workflows/hosts"
)

// Migrate brings an installation from before environments were scoped by
// repository up to date, at every deployer's start: the environment
// records move to their repository's key (natsstore.EnvStore.Migrate), the
// hosts they served are claimed for their repository
// (hosts.Claimer.Legacy) when it is the only one (an installation of
// several repositories was open to the takeovers this version refuses: its
// hosts are not kept, the operator grants them), every repository with a
// record gets its host label, and the live containers named without the
// repository are renamed (docker.Target.Adopt). Running it again changes
// nothing.
func Migrate(ctx context.Context, c *Conn, claimer *hosts.Claimer, target *docker.Target) error {
	log := logger(ctx)
	envs, err := c.Envs(ctx)
	if err != nil {
		return err
	}
	m, err := envs.Migrate(ctx)
	if err != nil {
		return fmt.Errorf("migrate environment records: %w", err)
	}
	for _, env := range m.Left {
		log.Warn().Str("env", env).Msg("environment record names no repository, and several repositories have environments: left as it was")
	}
	repos, err := envs.Repos(ctx)
	if err != nil {
		return err
	}
	if len(m.Moved) > 0 && len(repos) == 1 {
		if err := claimer.Legacy(ctx, m.Moved); err != nil {
			return fmt.Errorf("claim the hosts served before the upgrade: %w", err)
		}
	} else if len(m.Moved) > 0 {
		log.Warn().Strs("repositories", repos).Msg("several repositories had environments before the upgrade: the hosts they served are not kept; grant them with -host-grant")
	}
	for _, r := range repos {
		if _, err := claimer.Label(ctx, r); err != nil {
			return err
		}
	}
	n, err := target.Adopt(ctx)
	if err != nil {
		return fmt.Errorf("adopt containers: %w", err)
	}
	if len(m.Moved) > 0 || n > 0 {
		log.Info().Int("records", len(m.Moved)).Int("containers", n).Msg("migrated to repository-scoped environments")
	}
	return nil
}
