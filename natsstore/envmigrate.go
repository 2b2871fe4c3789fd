package natsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// Migration is what MigrateEnvs did.
type Migration struct {
	// Moved are the records moved to their repository's key, as they were.
	Moved []deploy.State
	// Left are the environments whose record names no repository and could
	// belong to several (or none): they stay under their old key.
	Left []string
}

// Migrate moves the records earlier versions kept under the environment's
// name alone ("staging") to the key of their repository and environment
// ("acme_2fshop.staging"), with their history, and removes the old key.
// Every record names its repository; one that does not goes to the only
// repository the other records name, and is left alone when they name none
// or several. A record already written under the new key (by a deploy after
// the upgrade) wins over the old one. Running it again moves nothing, and
// two deployers running it at once move each record once.
func (s *EnvStore) Migrate(ctx context.Context) (Migration, error) {
	var m Migration
	legacy, repos, err := s.legacyRecords(ctx)
	if err != nil {
		return m, err
	}
	for _, key := range sortedKeys(legacy) {
		st := legacy[key]
		if st.Repo.FullName == "" {
			if len(repos) != 1 {
				m.Left = append(m.Left, st.Env)
				continue
			}
			st.Repo.FullName = repos[0]
		}
		if err := s.move(ctx, key, st); err != nil {
			return m, err
		}
		m.Moved = append(m.Moved, st)
	}
	return m, nil
}

// legacyRecords returns the records under keys without a repository (no
// dot: events.EnvKey always has one), and the repositories every record
// names.
func (s *EnvStore) legacyRecords(ctx context.Context) (map[string]deploy.State, []string, error) {
	lister, err := s.kv.ListKeys(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list environments: %w", err)
	}
	legacy, repos := map[string]deploy.State{}, map[string]bool{}
	for k := range lister.Keys() {
		e, err := s.kv.Get(ctx, k)
		if err != nil {
			continue
		}
		var st deploy.State
		if json.Unmarshal(e.Value(), &st) != nil {
			continue
		}
		if st.Repo.FullName != "" {
			repos[st.Repo.FullName] = true
		}
		if !strings.Contains(k, ".") {
			legacy[k] = st
		}
	}
	return legacy, sortedKeys(repos), nil
}

// move copies the history of the old key to the new one, unless the new one
// exists, and purges the old key.
func (s *EnvStore) move(ctx context.Context, old string, st deploy.State) error {
	id := events.EnvID{Repo: st.Repo.FullName, Env: st.Env}
	hist, err := s.kv.History(ctx, old)
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("migrate %s: %w", id, err)
	}
	var values [][]byte
	for _, e := range hist {
		if e.Operation() == jetstream.KeyValuePut {
			values = append(values, withRepo(e.Value(), st.Repo.FullName))
		}
	}
	if len(values) > 0 {
		_, err := s.kv.Create(ctx, id.Key(), values[0])
		switch {
		case errors.Is(err, jetstream.ErrKeyExists):
			values = nil // written since the upgrade, or moved by another deployer
		case err != nil:
			return fmt.Errorf("migrate %s: %w", id, err)
		}
		for _, v := range values[min(1, len(values)):] {
			if _, err := s.kv.Put(ctx, id.Key(), v); err != nil {
				return fmt.Errorf("migrate %s: %w", id, err)
			}
		}
	}
	if err := s.kv.Purge(ctx, old); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("migrate %s: remove the old record: %w", id, err)
	}
	return nil
}

// withRepo returns the record v naming repo when it names no repository.
func withRepo(v []byte, repo string) []byte {
	var st deploy.State
	if json.Unmarshal(v, &st) != nil || st.Repo.FullName != "" {
		return v
	}
	st.Repo.FullName = repo
	b, err := json.Marshal(st)
	if err != nil {
		return v
	}
	return b
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
