package natsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// EnvStore records each environment's commit in a KV bucket whose history
// keeps the earlier ones.
type EnvStore struct{ kv jetstream.KeyValue }

var _ deploy.Store = (*EnvStore)(nil)

// NewEnvStore returns the store on kv (natsjs.BucketEnvs).
func NewEnvStore(kv jetstream.KeyValue) *EnvStore { return &EnvStore{kv: kv} }

// Record implements deploy.Store.
func (s *EnvStore) Record(ctx context.Context, st deploy.State) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("record %s: %w", st.Env, err)
	}
	if _, err := s.kv.Put(ctx, events.KeyPart(st.Env), b); err != nil {
		return fmt.Errorf("record %s: %w", st.Env, err)
	}
	return nil
}

// Get returns what env runs, or ok false when nothing was deployed there.
func (s *EnvStore) Get(ctx context.Context, env string) (st deploy.State, ok bool, err error) {
	e, err := s.kv.Get(ctx, events.KeyPart(env))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("read %s: %w", env, err)
	}
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		return st, false, fmt.Errorf("decode %s: %w", env, err)
	}
	return st, true, nil
}

// List returns every recorded environment, sorted by name.
func (s *EnvStore) List(ctx context.Context) ([]deploy.State, error) {
	lister, err := s.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list environments: %w", err)
	}
	var out []deploy.State
	for k := range lister.Keys() {
		e, err := s.kv.Get(ctx, k)
		if err != nil {
			continue
		}
		var st deploy.State
		if json.Unmarshal(e.Value(), &st) == nil {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Env < out[j].Env })
	return out, nil
}
