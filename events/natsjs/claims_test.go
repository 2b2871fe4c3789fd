package natsjs_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events/natsjs"
)

// TestProvisionUpgradesTheClaimsBucket: a claims bucket an earlier version
// made (no per-message TTLs, no retention) is given both by Provision, and
// its claims are kept.
func TestProvisionUpgradesTheClaimsBucket(t *testing.T) {
	s, err := natsjs.StartServer(natsjs.ServerConfig{Dir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := context.Background()
	old, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: natsjs.BucketClaims, History: 1, Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Put(ctx, "build.kept", []byte(`{"state":"done"}`)); err != nil {
		t.Fatal(err)
	}
	if got, err := natsjs.ClaimRetention(ctx, old); err != nil || got != 0 {
		t.Fatalf("retention of the old bucket = %s, %v; want 0", got, err)
	}
	topo := natsjs.DefaultTopology()
	if err := natsjs.Provision(ctx, js, topo); err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := natsjs.ClaimRetention(ctx, kv); err != nil || got != topo.MaxAge+topo.DuplicateWindow {
		t.Fatalf("retention after Provision = %s, %v; want %s", got, err, topo.MaxAge+topo.DuplicateWindow)
	}
	if _, err := kv.Get(ctx, "build.kept"); err != nil {
		t.Fatalf("claim of the old bucket: %v", err)
	}
}

func TestClaimRetentionValidated(t *testing.T) {
	tests := []struct {
		name      string
		retention time.Duration
		short     bool
		wantErr   bool
	}{
		{"default (the stream's)", 0, false, false},
		{"longer than the stream's", 60 * 24 * time.Hour, false, false},
		{"shorter than the stream's", time.Hour, false, true},
		{"shorter, allowed in a test", time.Second, true, false},
		{"negative", -time.Second, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo := natsjs.DefaultTopology()
			topo.ClaimRetention, topo.AllowShortRetention = tt.retention, tt.short
			if err := topo.Validate(); (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
