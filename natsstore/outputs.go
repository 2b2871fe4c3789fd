package natsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/workflows/build"
)

// outputPrefix starts the keys of build outputs in the claims bucket, where
// builders may write ("build.>"); no repository key is "out", as every one
// holds an encoded '/'.
const outputPrefix = "build.out."

// Outputs implements build.Outputs on the claims bucket: one record per
// build key, "build.out.<key>", holding the image the key produced. The
// latest build of a key wins.
type Outputs struct {
	kv jetstream.KeyValue
}

var _ build.Outputs = (*Outputs)(nil)

// NewOutputs returns the build outputs kept in kv (the claims bucket).
func NewOutputs(kv jetstream.KeyValue) *Outputs { return &Outputs{kv: kv} }

// Lookup implements build.Outputs.
func (o *Outputs) Lookup(ctx context.Context, key string) (build.Output, error) {
	var out build.Output
	if err := checkOutputKey(key); err != nil {
		return out, err
	}
	entry, err := o.kv.Get(ctx, outputPrefix+key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return out, fmt.Errorf("build key %s: %w", key, build.ErrNoOutput)
	}
	if err != nil {
		return out, fmt.Errorf("read build key %s: %w", key, err)
	}
	if err := json.Unmarshal(entry.Value(), &out); err != nil || out.Digest == "" {
		return out, fmt.Errorf("build key %s: unreadable record: %w", key, build.ErrNoOutput)
	}
	return out, nil
}

// Record implements build.Outputs.
func (o *Outputs) Record(ctx context.Context, key string, out build.Output) error {
	if err := checkOutputKey(key); err != nil {
		return err
	}
	b, _ := json.Marshal(out)
	if _, err := o.kv.Put(ctx, outputPrefix+key, b); err != nil {
		return fmt.Errorf("record build key %s: %w", key, err)
	}
	return nil
}

// checkOutputKey accepts the hex digests build.Handler.BuildKey makes.
func checkOutputKey(key string) error {
	if len(key) != 64 || strings.Trim(key, "0123456789abcdef") != "" {
		return fmt.Errorf("build key %q: want 64 lower-case hex digits", key)
	}
	return nil
}
