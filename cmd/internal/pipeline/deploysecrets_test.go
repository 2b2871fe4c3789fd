package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/secrets"
)

// TestDeployerSecretsKey: a deployer on its role's connection writes its
// key file (0600) at first start and publishes its recipient; a deployer
// with another key file keeps the published recipient and warns, naming
// its key file; a key file others may read stops the deployer.
func TestDeployerSecretsKey(t *testing.T) {
	s, keys := natsjs.MustAuthServer(t, Topology())
	var log strings.Builder
	ctx := zerolog.New(&log).WithContext(context.Background())
	opt, err := keys.Option(natsjs.RoleDeployer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := AttachRole(ctx, s.ClientURL(), t.Name(), RoleOptions(natsjs.RoleDeployer, opt)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })

	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	store, err := deployerSecrets(ctx, &cfg, c)
	if err != nil {
		t.Fatal(err)
	}
	path := secrets.KeyFile(cfg.DataDir)
	key, err := secrets.LoadKey(path)
	if err != nil {
		t.Fatalf("key file after the first start: %v", err)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", info.Mode())
	}
	if r, err := store.Recipient(ctx); err != nil || r != key.Recipient() {
		t.Fatalf("published recipient %q, %v; want the key file's %s", r, err, key.Recipient())
	}

	other := cfg
	other.SecretsKey = filepath.Join(t.TempDir(), "other.key")
	if _, err := deployerSecrets(ctx, &other, c); err != nil {
		t.Fatal(err)
	}
	if r, _ := store.Recipient(ctx); r != key.Recipient() {
		t.Errorf("a second key replaced the published recipient with %s", r)
	}
	if !strings.Contains(log.String(), "sealed for another key") || !strings.Contains(log.String(), other.SecretsKey) {
		t.Errorf("no warning naming %s:\n%s", other.SecretsKey, log.String())
	}

	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := deployerSecrets(ctx, &cfg, c); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("deployer with a 0640 key file: %v, want an error naming it", err)
	}
}
