package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// inflight records the steps a worker of a stable identity is handling, in
// the claims bucket under "<step>.inflight.<identity>.<boot>.<id>" (keys
// its role may write), so that its restart resumes them at once: the message of an
// interrupted step comes back only after the consumer's AckWait, and the
// step's lease, which the restart takes over at once (natsstore.Claims.
// Succeeding), is no longer what it waits for. A nil inflight records
// nothing.
type inflight struct {
	kv     jetstream.KeyValue
	prefix string // of every boot of the identity
	own    string // of this boot
}

// newInflight returns the in-flight records of c's identity for steps
// ("build" or "deploy"), or nil when c has no identity.
func newInflight(ctx context.Context, c *Conn, step string) (*inflight, error) {
	if c.identity == "" {
		return nil, nil
	}
	kv, err := c.JS.KeyValue(ctx, natsjs.BucketClaims)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", natsjs.BucketClaims, err)
	}
	prefix := step + ".inflight." + events.KeyPart(c.identity) + "."
	return &inflight{kv: kv, prefix: prefix, own: prefix + events.KeyPart(bootID) + "."}, nil
}

// track wraps fn so that the event it handles is recorded while it runs. A
// record that cannot be written only costs a restart its speed, so it is
// logged, and fn runs.
func track[E events.Event](in *inflight, fn func(context.Context, E) error) func(context.Context, E) error {
	if in == nil {
		return fn
	}
	return func(ctx context.Context, e E) error {
		sum := sha256.Sum256([]byte(e.DedupKey()))
		key := in.own + hex.EncodeToString(sum[:12]) + "." + uuid.NewString()[:8]
		b, err := json.Marshal(e)
		if err == nil {
			_, err = in.kv.Put(ctx, key, b)
		}
		if err != nil {
			logger(ctx).Warn().Err(err).Str("step", e.DedupKey()).Msg("recording the step in flight failed: a restart resumes it after its lease")
		}
		defer func() { _ = in.kv.Delete(context.WithoutCancel(ctx), key) }()
		return fn(ctx, e)
	}
}

// resume handles again, with fn (tracked), every step the predecessor of
// this identity left in flight, and forgets its records. A step that fails
// again is left to the redelivery of its message.
func resume[T any, E interface {
	*T
	events.Event
}](ctx context.Context, in *inflight, fn func(context.Context, E) error) {
	if in == nil {
		return
	}
	lister, err := in.kv.ListKeysFiltered(ctx, in.prefix+">")
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return
	}
	if err != nil {
		logger(ctx).Warn().Err(err).Msg("listing the steps a predecessor left failed")
		return
	}
	var wg sync.WaitGroup
	for k := range lister.Keys() {
		if strings.HasPrefix(k, in.own) {
			continue // this start's own
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			resumeOne(ctx, in, k, fn)
		}()
	}
	wg.Wait()
}

// resumeOne handles the step recorded under key again and forgets the
// record.
func resumeOne[T any, E interface {
	*T
	events.Event
}](ctx context.Context, in *inflight, key string, fn func(context.Context, E) error) {
	defer func() { _ = in.kv.Delete(context.WithoutCancel(ctx), key) }()
	entry, err := in.kv.Get(ctx, key)
	if err != nil {
		return
	}
	e := E(new(T))
	if err := json.Unmarshal(entry.Value(), e); err != nil {
		return
	}
	logger(ctx).Info().Str("step", e.DedupKey()).Msg("resuming a step the previous start of this worker left")
	if err := track(in, fn)(ctx, e); err != nil {
		logger(ctx).Warn().Err(err).Str("step", e.DedupKey()).Msg("resumed step failed: its message comes back")
	}
}
