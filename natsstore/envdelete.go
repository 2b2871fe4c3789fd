package natsstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
)

// Delete forgets what env runs (a removed preview). Its history stays in
// the stream.
func (s *EnvStore) Delete(ctx context.Context, env string) error {
	if err := s.kv.Purge(ctx, events.KeyPart(env)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("forget %s: %w", env, err)
	}
	return nil
}
