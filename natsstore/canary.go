package natsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/canary"
)

// CanaryStore implements canary.Store on a KV bucket (natsjs.BucketCanary):
// split.<env> is an environment's split, stats.<env>.<proxy> the counts
// one proxy publishes, cmd.<env> the operator's waiting command.
type CanaryStore struct{ kv jetstream.KeyValue }

var _ canary.Store = (*CanaryStore)(nil)

// NewCanaryStore returns the store on kv.
func NewCanaryStore(kv jetstream.KeyValue) *CanaryStore { return &CanaryStore{kv: kv} }

func splitKey(repo, env string) string { return "split." + events.EnvKey(repo, env) }
func cmdKey(repo, env string) string   { return "cmd." + events.EnvKey(repo, env) }
func statsKey(repo, env, proxy string) string {
	return "stats." + events.EnvKey(repo, env) + "." + events.KeyPart(proxy)
}

// PutSplit implements canary.Store.
func (s *CanaryStore) PutSplit(ctx context.Context, repo, env string, sp canary.Split) error {
	return s.putJSON(ctx, splitKey(repo, env), sp)
}

// DeleteSplit implements canary.Store.
func (s *CanaryStore) DeleteSplit(ctx context.Context, repo, env string) error {
	if err := s.kv.Delete(ctx, splitKey(repo, env)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("drop split of %s: %w", env, err)
	}
	return nil
}

// Split returns the split of env of repo, and false when it has none.
func (s *CanaryStore) Split(ctx context.Context, repo, env string) (canary.Split, bool, error) {
	var sp canary.Split
	ok, err := s.getJSON(ctx, splitKey(repo, env), &sp)
	return sp, ok, err
}

// PutStats records the counts proxy has of env of repo since it started.
func (s *CanaryStore) PutStats(ctx context.Context, repo, env, proxy string, st canary.Stats) error {
	return s.putJSON(ctx, statsKey(repo, env, proxy), st)
}

// Stats implements canary.Store.
func (s *CanaryStore) Stats(ctx context.Context, repo, env string) (canary.Stats, error) {
	var sum canary.Stats
	keys, err := s.kv.ListKeysFiltered(ctx, "stats."+events.EnvKey(repo, env)+".*")
	if err != nil {
		return sum, fmt.Errorf("list counts of %s: %w", env, err)
	}
	for k := range keys.Keys() {
		var st canary.Stats
		if _, err := s.getJSON(ctx, k, &st); err != nil {
			return sum, err
		}
		sum = sum.Add(st)
	}
	return sum, nil
}

// Command records cmd (canary.CommandPromote, canary.CommandAbort) for the
// rollout running in env of repo.
func (s *CanaryStore) Command(ctx context.Context, repo, env, cmd string) error {
	if _, err := s.kv.Put(ctx, cmdKey(repo, env), []byte(cmd)); err != nil {
		return fmt.Errorf("send %s to %s: %w", cmd, env, err)
	}
	return nil
}

// TakeCommand implements canary.Store.
func (s *CanaryStore) TakeCommand(ctx context.Context, repo, env string) (string, error) {
	e, err := s.kv.Get(ctx, cmdKey(repo, env))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read command of %s: %w", env, err)
	}
	if err := s.kv.Delete(ctx, cmdKey(repo, env), jetstream.LastRevision(e.Revision())); err != nil {
		return "", fmt.Errorf("take command of %s: %w", env, err)
	}
	return string(e.Value()), nil
}

// putJSON writes v under key.
func (s *CanaryStore) putJSON(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	if _, err := s.kv.Put(ctx, key, b); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

// getJSON reads key into v; false when it does not exist.
func (s *CanaryStore) getJSON(ctx context.Context, key string, v any) (bool, error) {
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", key, err)
	}
	if err := json.Unmarshal(e.Value(), v); err != nil {
		return false, fmt.Errorf("read %s: %w", key, err)
	}
	return true, nil
}
