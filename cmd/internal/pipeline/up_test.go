package pipeline_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// TestUpRequiresCredentials opens `slipway up` with its embedded server:
// a connection without a key is refused, the keys are private files under
// the data directory, the operator's commands find the admin key there,
// and the builder's key may not request a deploy.
func TestUpRequiresCredentials(t *testing.T) {
	cfg := pipeline.DefaultConfig()
	cfg.DataDir, cfg.NATSPort, cfg.HTTPAddr = t.TempDir(), -1, "127.0.0.1:0"
	ctx := context.Background()
	up := &pipeline.Up{Config: cfg}
	if err := up.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	url := up.NATSURL()

	if nc, err := natsjs.Connect(url, "anonymous"); err == nil {
		nc.Close()
		t.Fatal("the embedded server accepted a connection without credentials")
	}

	for _, r := range natsjs.Roles() {
		info, err := os.Stat(filepath.Join(cfg.DataDir, natsjs.KeysDirName, string(r)+".nk"))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("key of %s: %v %v, want a 0600 file", r, info, err)
		}
	}

	op := cfg
	op.NATSURL = url
	c, err := pipeline.AttachOperator(&op, "slipway-status")
	if err != nil {
		t.Fatalf("operator command: %v", err)
	}
	defer c.Close()
	if _, err := c.Envs(ctx); err != nil {
		t.Errorf("operator command reads the environments: %v", err)
	}

	errs := make(chan error, 4)
	seed, err := natsjs.SeedOption(filepath.Join(cfg.DataDir, natsjs.KeysDirName, "builder.nk"))
	if err != nil {
		t.Fatal(err)
	}
	builder, err := natsjs.Connect(url, "builder", append(pipeline.RoleOptions(natsjs.RoleBuilder, seed),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))...)
	if err != nil {
		t.Fatal(err)
	}
	defer builder.Close()
	if err := builder.Publish("slipway.deploy.requested.x", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), "slipway.deploy.requested.x") {
			t.Errorf("async error %v, want a permissions violation", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the builder's deploy request raised no permissions violation")
	}
}
