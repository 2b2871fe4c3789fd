package natsstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
)

// Delete forgets what env of repo runs (a removed preview). Its history
// stays in the stream.
func (s *EnvStore) Delete(ctx context.Context, repo, env string) error {
	id := events.EnvID{Repo: repo, Env: env}
	if err := s.kv.Purge(ctx, id.Key()); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("forget %s: %w", id, err)
	}
	return nil
}
