package natsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/preview"
)

// PreviewStore keeps preview records in a KV bucket (natsjs.BucketPreviews), keyed
// by repository and pull request number.
type PreviewStore struct{ kv jetstream.KeyValue }

var _ preview.Store = (*PreviewStore)(nil)

// NewPreviewStore returns the store on kv.
func NewPreviewStore(kv jetstream.KeyValue) *PreviewStore { return &PreviewStore{kv: kv} }

func previewKey(repo string, number int) string {
	return events.RepoKey(repo) + "." + strconv.Itoa(number)
}

// Get implements preview.Store.
func (s *PreviewStore) Get(ctx context.Context, repo string, number int) (preview.Preview, bool, error) {
	var p preview.Preview
	e, err := s.kv.Get(ctx, previewKey(repo, number))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("read preview %s#%d: %w", repo, number, err)
	}
	if err := json.Unmarshal(e.Value(), &p); err != nil {
		return p, false, fmt.Errorf("decode preview %s#%d: %w", repo, number, err)
	}
	return p, true, nil
}

// Put implements preview.Store.
func (s *PreviewStore) Put(ctx context.Context, p preview.Preview) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode preview %s: %w", p.Env, err)
	}
	if _, err := s.kv.Put(ctx, previewKey(p.Repo.FullName, p.Number), b); err != nil {
		return fmt.Errorf("record preview %s: %w", p.Env, err)
	}
	return nil
}

// Delete implements preview.Store.
func (s *PreviewStore) Delete(ctx context.Context, repo string, number int) error {
	if err := s.kv.Purge(ctx, previewKey(repo, number)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("forget preview %s#%d: %w", repo, number, err)
	}
	return nil
}

// List implements preview.Store, sorted by repository and number.
func (s *PreviewStore) List(ctx context.Context) ([]preview.Preview, error) {
	lister, err := s.kv.ListKeys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list previews: %w", err)
	}
	var out []preview.Preview
	for k := range lister.Keys() {
		e, err := s.kv.Get(ctx, k)
		if err != nil {
			continue
		}
		var p preview.Preview
		if json.Unmarshal(e.Value(), &p) == nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Repo.FullName != out[j].Repo.FullName {
			return out[i].Repo.FullName < out[j].Repo.FullName
		}
		return out[i].Number < out[j].Number
	})
	return out, nil
}
