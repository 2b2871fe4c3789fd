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
// keeps the earlier ones. Records are keyed by repository and environment
// (events.EnvKey).
type EnvStore struct{ kv jetstream.KeyValue }

var _ deploy.Store = (*EnvStore)(nil)

// NewEnvStore returns the store on kv (natsjs.BucketEnvs).
func NewEnvStore(kv jetstream.KeyValue) *EnvStore { return &EnvStore{kv: kv} }

// Record implements deploy.Store.
func (s *EnvStore) Record(ctx context.Context, st deploy.State) error {
	id := events.EnvID{Repo: st.Repo.FullName, Env: st.Env}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("record %s: %w", id, err)
	}
	if _, err := s.kv.Put(ctx, id.Key(), b); err != nil {
		return fmt.Errorf("record %s: %w", id, err)
	}
	return nil
}

// Get returns what env of repo runs, or ok false when nothing was deployed
// there.
func (s *EnvStore) Get(ctx context.Context, repo, env string) (st deploy.State, ok bool, err error) {
	id := events.EnvID{Repo: repo, Env: env}
	e, err := s.kv.Get(ctx, id.Key())
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("read %s: %w", id, err)
	}
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		return st, false, fmt.Errorf("decode %s: %w", id, err)
	}
	return st, true, nil
}

// List returns every recorded environment, sorted by repository and name.
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
	sort.Slice(out, func(i, j int) bool {
		if out[i].Repo.FullName != out[j].Repo.FullName {
			return out[i].Repo.FullName < out[j].Repo.FullName
		}
		return out[i].Env < out[j].Env
	})
	return out, nil
}

// Repos returns the repositories that have a recorded environment, sorted.
func (s *EnvStore) Repos(ctx context.Context) ([]string, error) {
	states, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, st := range states {
		if r := st.Repo.FullName; r != "" && (len(out) == 0 || out[len(out)-1] != r) {
			out = append(out, r)
		}
	}
	return out, nil
}
