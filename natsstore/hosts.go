package natsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/workflows/hosts"
)

// HostStore implements hosts.Store on a KV bucket (natsjs.BucketHosts): claims and
// labels are created with a revision-checked Create, so two deployers
// claiming one host at once give it to one of them.
type HostStore struct{ kv jetstream.KeyValue }

var _ hosts.Store = (*HostStore)(nil)

// NewHostStore returns the store on kv.
func NewHostStore(kv jetstream.KeyValue) *HostStore { return &HostStore{kv: kv} }

func hostKey(host string) string { return "host." + events.KeyPart(host) }

// Create implements hosts.Store.
func (s *HostStore) Create(ctx context.Context, c hosts.Claim) (hosts.Claim, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return c, fmt.Errorf("claim host %s: %w", c.Host, err)
	}
	_, err = s.kv.Create(ctx, hostKey(c.Host), b)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return c, fmt.Errorf("claim host %s: %w", c.Host, err)
	}
	e, err := s.kv.Get(ctx, hostKey(c.Host))
	if err != nil {
		return c, fmt.Errorf("read the claim of host %s: %w", c.Host, err)
	}
	var held hosts.Claim
	if err := json.Unmarshal(e.Value(), &held); err != nil {
		return c, fmt.Errorf("decode the claim of host %s: %w", c.Host, err)
	}
	return held, nil
}

// Put implements hosts.Store.
func (s *HostStore) Put(ctx context.Context, c hosts.Claim) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("claim host %s: %w", c.Host, err)
	}
	if _, err := s.kv.Put(ctx, hostKey(c.Host), b); err != nil {
		return fmt.Errorf("claim host %s: %w", c.Host, err)
	}
	return nil
}

// Delete implements hosts.Store.
func (s *HostStore) Delete(ctx context.Context, host string) error {
	if err := s.kv.Purge(ctx, hostKey(host)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("release host %s: %w", host, err)
	}
	return nil
}

// List implements hosts.Store.
func (s *HostStore) List(ctx context.Context) ([]hosts.Claim, error) {
	var out []hosts.Claim
	err := s.each(ctx, "host.", func(_ string, v []byte) {
		var c hosts.Claim
		if json.Unmarshal(v, &c) == nil {
			out = append(out, c)
		}
	})
	return out, err
}

// CreateLabel implements hosts.Store.
func (s *HostStore) CreateLabel(ctx context.Context, label, repo string) (string, error) {
	_, err := s.kv.Create(ctx, "label."+label, []byte(repo))
	if err == nil {
		return repo, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return "", fmt.Errorf("give host label %s to %s: %w", label, repo, err)
	}
	e, err := s.kv.Get(ctx, "label."+label)
	if err != nil {
		return "", fmt.Errorf("read host label %s: %w", label, err)
	}
	return string(e.Value()), nil
}

// Labels implements hosts.Store.
func (s *HostStore) Labels(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	err := s.each(ctx, "label.", func(k string, v []byte) { out[strings.TrimPrefix(k, "label.")] = string(v) })
	return out, err
}

// each calls fn with every key starting with prefix and its value.
func (s *HostStore) each(ctx context.Context, prefix string, fn func(k string, v []byte)) error {
	lister, err := s.kv.ListKeysFiltered(ctx, prefix+">")
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", natsjs.BucketHosts, err)
	}
	for k := range lister.Keys() {
		e, err := s.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", k, err)
		}
		fn(k, e.Value())
	}
	return nil
}
