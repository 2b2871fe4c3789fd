package readmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// Model is the read model on JetStream KV: the projector writes it
// (Project), the query functions read it.
type Model struct {
	js                                          jetstream.JetStream
	repos, commits, envs, pages, releases, byID jetstream.KeyValue
}

// Open opens the read model's buckets, which natsjs.Provision created.
func Open(ctx context.Context, js jetstream.JetStream) (*Model, error) {
	m := &Model{js: js}
	for _, b := range []struct {
		name string
		kv   *jetstream.KeyValue
	}{
		{natsjs.BucketReadRepos, &m.repos}, {natsjs.BucketReadCommits, &m.commits}, {natsjs.BucketReadEnvs, &m.envs},
		{natsjs.BucketReadPages, &m.pages}, {natsjs.BucketReadReleases, &m.releases}, {natsjs.BucketReadEvents, &m.byID},
	} {
		kv, err := js.KeyValue(ctx, b.name)
		if err != nil {
			return nil, fmt.Errorf("open read model %s: %w", b.name, err)
		}
		*b.kv = kv
	}
	return m, nil
}

// record is a pointer to a record that knows the last event folded in.
type record[T any] interface {
	*T
	at() *uint64
}

// get reads key into a new T; found is false when there is none.
func get[T any](ctx context.Context, kv jetstream.KeyValue, key string) (v T, rev uint64, found bool, err error) {
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return v, 0, false, nil
	}
	if err != nil {
		return v, 0, false, events.Retryable(fmt.Errorf("read model get %s: %w", key, err), time.Second)
	}
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return v, 0, false, fmt.Errorf("read model decode %s: %w", key, err)
	}
	return v, e.Revision(), true, nil
}

// update folds the event at stream sequence seq into the record at key
// with apply, unless the record already holds it. It writes with a
// revision check, and reads again when another writer came first.
func update[T any, P record[T]](ctx context.Context, kv jetstream.KeyValue, key string, seq uint64, apply func(P)) error {
	for range 16 {
		v, rev, found, err := get[T](ctx, kv, key)
		if err != nil {
			return err
		}
		p := P(&v)
		if found && *p.at() >= seq {
			return nil
		}
		apply(p)
		*p.at() = seq
		b, err := json.Marshal(p)
		if err != nil {
			return events.Permanent(fmt.Errorf("read model encode %s: %w", key, err))
		}
		if found {
			_, err = kv.Update(ctx, key, b, rev)
		} else {
			_, err = kv.Create(ctx, key, b)
		}
		if err == nil {
			return nil
		}
		if !conflict(err) {
			return events.Retryable(fmt.Errorf("read model write %s: %w", key, err), time.Second)
		}
	}
	return events.Retryable(fmt.Errorf("read model write %s: too many concurrent writers", key), time.Second)
}

// conflict reports whether a write failed because another writer changed
// the key first.
func conflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) ||
		(errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence)
}
