package readmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
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
	// written holds what the projector last wrote, so folding an event
	// reads nothing back (see cache.go); queries never read it.
	written *cache
	// folding makes Project one event at a time: the records in written
	// are shared with the fold that changes them.
	folding sync.Mutex
}

// Open opens the read model's buckets, which natsjs.Provision created.
func Open(ctx context.Context, js jetstream.JetStream) (*Model, error) {
	m := &Model{js: js, written: newCache(cacheSize)}
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
// with apply, unless the record already holds it. It starts from what c
// holds of key (what this projector last wrote), else from nothing with
// a create; it writes with a revision check, and reads the record again
// when another writer came first.
func update[T any, P record[T]](ctx context.Context, c *cache, kv jetstream.KeyValue, key string, seq uint64, apply func(P)) error {
	ck := kv.Bucket() + "/" + key
	for range 16 {
		v, rev, found, err := cached[T](c, ck)
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
			rev, err = kv.Update(ctx, key, b, rev)
		} else {
			rev, err = kv.Create(ctx, key, b)
		}
		if err == nil {
			c.set(ck, cacheEntry{rev: rev, value: v})
			return nil
		}
		c.drop(ck) // apply changed what it shared with the cache
		if !conflict(err) {
			return events.Retryable(fmt.Errorf("read model write %s: %w", key, err), time.Second)
		}
		// Another writer came first, or the record was never cached:
		// read it, then fold again.
		if err := load(ctx, c, kv, key, ck); err != nil {
			return err
		}
	}
	return events.Retryable(fmt.Errorf("read model write %s: too many concurrent writers", key), time.Second)
}

// load reads key of kv into c (as absent when it is not there).
func load(ctx context.Context, c *cache, kv jetstream.KeyValue, key, ck string) error {
	e, err := kv.Get(ctx, key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		c.putAbsent(ck)
		return nil
	case err != nil:
		c.drop(ck)
		return events.Retryable(fmt.Errorf("read model get %s: %w", key, err), time.Second)
	}
	c.put(ck, e.Revision(), e.Value())
	return nil
}

// read returns the record at key as the projector sees it: from c, else
// from kv (and then cached).
func read[T any](ctx context.Context, c *cache, kv jetstream.KeyValue, key string) (v T, found bool, err error) {
	ck := kv.Bucket() + "/" + key
	if _, known := c.get(ck); !known {
		if err := load(ctx, c, kv, key, ck); err != nil {
			return v, false, err
		}
	}
	v, _, found, err = cached[T](c, ck)
	return v, found, err
}

// cached returns what c holds of ck, decoding it once; found is false
// when c holds nothing or the record's absence. The value shares its maps
// and slices with c's: a caller that changes it writes it or drops ck.
func cached[T any](c *cache, ck string) (v T, rev uint64, found bool, err error) {
	e, known := c.get(ck)
	if !known || e.absent {
		return v, 0, false, nil
	}
	if d, ok := e.value.(T); ok {
		return d, e.rev, true, nil
	}
	if err := json.Unmarshal(e.data, &v); err != nil {
		c.drop(ck)
		return v, 0, false, fmt.Errorf("read model decode %s: %w", ck, err)
	}
	c.set(ck, cacheEntry{rev: e.rev, value: v})
	return v, e.rev, true, nil
}

// conflict reports whether a write failed because another writer changed
// the key first.
func conflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) ||
		(errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence)
}

// OpenCommits opens the commit records alone, for a worker allowed to read
// no other bucket of the read model: only Commit answers.
func OpenCommits(ctx context.Context, js jetstream.JetStream) (*Model, error) {
	kv, err := js.KeyValue(ctx, natsjs.BucketReadCommits)
	if err != nil {
		return nil, fmt.Errorf("open read model %s: %w", natsjs.BucketReadCommits, err)
	}
	return &Model{js: js, commits: kv}, nil
}
