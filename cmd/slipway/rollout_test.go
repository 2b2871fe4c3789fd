package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/canary"
)

// TestSteer: slipway promote and abort refuse an environment with no
// rollout, and leave the command for the running one, which takes it once.
func TestSteer(t *testing.T) {
	srv := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, srv.ClientURL())
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, natsjs.BucketCanary)
	if err != nil {
		t.Fatal(err)
	}
	store := natsstore.NewCanaryStore(kv)
	var out bytes.Buffer
	if err := steer(ctx, store, "acme/shop", "production", canary.CommandAbort, &out); err == nil || !strings.Contains(err.Error(), "no rollout runs in production") {
		t.Fatalf("abort without a rollout = %v, want a refusal", err)
	}
	if cmd, err := store.TakeCommand(ctx, "acme/shop", "production"); err != nil || cmd != "" {
		t.Fatalf("a refused abort left %q (%v)", cmd, err)
	}
	sp := canary.Split{Shadow: canary.ShadowEnv("production"), Commit: strings.Repeat("a", 40), Weight: 10}
	if err := store.PutSplit(ctx, "acme/shop", "production", sp); err != nil {
		t.Fatal(err)
	}
	if err := steer(ctx, store, "acme/shop", "production", canary.CommandPromote, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "promote sent to production of acme/shop: commit aaaaaaa") {
		t.Errorf("output %q", out.String())
	}
	for i, want := range []string{canary.CommandPromote, ""} {
		if cmd, err := store.TakeCommand(ctx, "acme/shop", "production"); err != nil || cmd != want {
			t.Errorf("take %d = %q (%v), want %q", i, cmd, err, want)
		}
	}
}
