package natsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/freeze"
)

// FreezeStore keeps freeze records in a KV bucket (natsjs.BucketFreezes),
// keyed by environment (events.EnvKey), every change revision-checked.
type FreezeStore struct{ kv jetstream.KeyValue }

var _ freeze.Store = (*FreezeStore)(nil)

// NewFreezeStore returns the store on kv.
func NewFreezeStore(kv jetstream.KeyValue) *FreezeStore { return &FreezeStore{kv: kv} }

// Get implements freeze.Store.
func (s *FreezeStore) Get(ctx context.Context, repo, env string) (freeze.Freeze, uint64, bool, error) {
	var f freeze.Freeze
	e, err := s.kv.Get(ctx, events.EnvKey(repo, env))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return f, 0, false, nil
	}
	if err != nil {
		return f, 0, false, fmt.Errorf("read freeze of %s: %w", env, err)
	}
	if err := json.Unmarshal(e.Value(), &f); err != nil {
		return f, 0, false, fmt.Errorf("decode freeze of %s: %w", env, err)
	}
	return f, e.Revision(), true, nil
}

// Put implements freeze.Store.
func (s *FreezeStore) Put(ctx context.Context, f freeze.Freeze, revision uint64) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode freeze of %s: %w", f.Env, err)
	}
	key := events.EnvKey(f.Repo, f.Env)
	if revision == 0 {
		_, err = s.kv.Create(ctx, key, b)
	} else {
		_, err = s.kv.Update(ctx, key, b, revision)
	}
	return freezeErr(err, "record freeze of "+f.Env)
}

// Delete implements freeze.Store.
func (s *FreezeStore) Delete(ctx context.Context, repo, env string, revision uint64) error {
	return freezeErr(s.kv.Purge(ctx, events.EnvKey(repo, env), jetstream.LastRevision(revision)), "end freeze of "+env)
}

// List implements freeze.Store, sorted by repository and environment.
func (s *FreezeStore) List(ctx context.Context) ([]freeze.Freeze, error) {
	lister, err := s.kv.ListKeys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list freezes: %w", err)
	}
	var out []freeze.Freeze
	for k := range lister.Keys() {
		e, err := s.kv.Get(ctx, k)
		if err != nil {
			continue
		}
		var f freeze.Freeze
		if json.Unmarshal(e.Value(), &f) == nil {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Repo < out[j].Repo || out[i].Repo == out[j].Repo && out[i].Env < out[j].Env
	})
	return out, nil
}

// freezeErr wraps err, a revision mismatch as freeze.ErrConflict.
func freezeErr(err error, what string) error {
	var apiErr *jetstream.APIError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jetstream.ErrKeyExists), errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence:
		return fmt.Errorf("%s: %w", what, freeze.ErrConflict)
	}
	return fmt.Errorf("%s: %w", what, err)
}
