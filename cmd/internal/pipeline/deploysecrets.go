package pipeline

import (
	"context"
	"fmt"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/secrets"
)

// secretsKeyFile is the deployer's key file: -secrets-key, or else
// <data-dir>/secrets/age.key.
func (c *Config) secretsKeyFile() string {
	if c.SecretsKey != "" {
		return c.SecretsKey
	}
	return secrets.KeyFile(c.DataDir)
}

// Secrets returns the secrets store of the bucket; key opens the values,
// nil for an operator's command, which only seals.
func (c *Conn) Secrets(ctx context.Context, key natsstore.Opener) (*natsstore.SecretStore, error) {
	kv, err := c.JS.KeyValue(ctx, natsjs.BucketSecrets)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", natsjs.BucketSecrets, err)
	}
	return natsstore.NewSecretStore(kv, key), nil
}

// deployerSecrets reads the deployer's key file, writing a new key there
// on first start, and publishes its recipient so that operators' commands
// seal for it. A recipient published by another key is kept (what is
// sealed for it stays readable by that key), with a warning: deploys
// needing a secret then fail naming the key file.
func deployerSecrets(ctx context.Context, cfg *Config, c *Conn) (*natsstore.SecretStore, error) {
	key, err := secrets.EnsureKey(cfg.secretsKeyFile())
	if err != nil {
		return nil, err
	}
	store, err := c.Secrets(ctx, key)
	if err != nil {
		return nil, err
	}
	published, err := store.PublishRecipient(ctx, key.Recipient())
	if err != nil {
		return nil, err
	}
	log := logger(ctx).With().Str("key_file", key.Path()).Str("recipient", key.Recipient()).Logger()
	if published != key.Recipient() {
		log.Warn().Str("published", published).
			Msg("secrets are sealed for another key than this key file's: deploys needing a secret will fail; give every deployer the same -secrets-key")
		return store, nil
	}
	log.Info().Msg("secrets key ready")
	return store, nil
}
