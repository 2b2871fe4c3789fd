package natsstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/secrets"
)

// mustSecretStore returns a store on an embedded server opening with a
// fresh key, and a store on the same bucket that only seals.
func mustSecretStore(t *testing.T) (opener, sealer *natsstore.SecretStore, key *secrets.Key) {
	t.Helper()
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	kv, err := js.KeyValue(context.Background(), natsjs.BucketSecrets)
	if err != nil {
		t.Fatal(err)
	}
	key, err = secrets.EnsureKey(filepath.Join(t.TempDir(), "age.key"))
	if err != nil {
		t.Fatal(err)
	}
	return natsstore.NewSecretStore(kv, key), natsstore.NewSecretStore(kv, nil), key
}

// put seals value with the published recipient, as the CLI does.
func put(t *testing.T, s *natsstore.SecretStore, repo, env, name, value string) uint64 {
	t.Helper()
	ctx := context.Background()
	r, err := s.Recipient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := secrets.Seal(r, []byte(value))
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Put(ctx, repo, env, natsstore.SealedSecret{Name: name, Sealed: sealed, Recipient: r, SetBy: "ada", SetAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSecretStore: the first recipient published stays; secrets are kept
// per repository and environment, listed by name without their sealed
// value, opened at their latest version, and removed; every missing
// secret is named in one permanent error.
func TestSecretStore(t *testing.T) {
	ctx := context.Background()
	opener, sealer, key := mustSecretStore(t)
	if _, err := sealer.Recipient(ctx); !errors.Is(err, natsstore.ErrNoRecipient) {
		t.Fatalf("Recipient before any deployer: %v, want ErrNoRecipient", err)
	}
	if got, err := opener.PublishRecipient(ctx, key.Recipient()); err != nil || got != key.Recipient() {
		t.Fatalf("PublishRecipient = %q, %v", got, err)
	}
	if got, err := opener.PublishRecipient(ctx, "age1other"); err != nil || got != key.Recipient() {
		t.Errorf("a second PublishRecipient = %q, %v; want the first recipient kept", got, err)
	}

	put(t, sealer, "Acme/Shop", "staging", "DATABASE_URL", "one")
	v2 := put(t, sealer, "acme/shop", "staging", "DATABASE_URL", "two")
	put(t, sealer, "acme/shop", "staging", "API_KEY", "k")
	put(t, sealer, "acme/shop", "production", "DATABASE_URL", "prod")
	put(t, sealer, "other/shop", "staging", "DATABASE_URL", "other")

	list, err := sealer.List(ctx, "acme/shop", "staging")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "API_KEY" || list[1].Name != "DATABASE_URL" || list[1].Version != v2 || list[1].SetBy != "ada" || list[1].Sealed != nil {
		t.Fatalf("List = %+v, want API_KEY and DATABASE_URL@%d of staging only, without sealed values", list, v2)
	}
	got, err := opener.Open(ctx, "acme/shop", []string{"staging"}, []string{"DATABASE_URL", "API_KEY"})
	if err != nil || len(got) != 2 || got[0].Value() != "two" || got[0].Version != v2 || got[1].Value() != "k" {
		t.Fatalf("Open = %v, %v; want DATABASE_URL two@%d and API_KEY", got, err, v2)
	}
	if _, err := sealer.Open(ctx, "acme/shop", []string{"staging"}, []string{"API_KEY"}); !events.IsPermanent(err) || !strings.Contains(err.Error(), "no secrets key") {
		t.Errorf("Open without a key: %v, want a permanent error", err)
	}

	if err := sealer.Delete(ctx, "acme/shop", "staging", "API_KEY"); err != nil {
		t.Fatal(err)
	}
	if err := sealer.Delete(ctx, "acme/shop", "staging", "API_KEY"); !errors.Is(err, natsstore.ErrSecretNotFound) {
		t.Errorf("second Delete: %v, want ErrSecretNotFound", err)
	}
	_, err = opener.Open(ctx, "acme/shop", []string{"staging"}, []string{"API_KEY", "DATABASE_URL", "SENTRY_DSN"})
	if !events.IsPermanent(err) || !strings.Contains(err.Error(), "secret API_KEY, SENTRY_DSN of staging of acme/shop is not set") {
		t.Errorf("Open of removed and unknown secrets: %v, want one permanent error naming both", err)
	}
	put(t, sealer, "acme/shop", "pr", "API_KEY", "for every preview")
	put(t, sealer, "acme/shop", "pr-42", "DATABASE_URL", "for pr-42")
	got, err = opener.Open(ctx, "acme/shop", []string{"pr-42", "pr"}, []string{"DATABASE_URL", "API_KEY"})
	if err != nil || got[0].Value() != "for pr-42" || got[1].Value() != "for every preview" {
		t.Errorf("a preview's secrets = %v, %v; want its own, then its template's", got, err)
	}
	if _, err := opener.Open(ctx, "acme/shop", []string{"pr-42", "pr"}, []string{"SENTRY_DSN"}); err == nil || !strings.Contains(err.Error(), "secret SENTRY_DSN of pr-42 (or pr) of acme/shop is not set") {
		t.Errorf("a preview's missing secret: %v, want both environments named", err)
	}
	if got, err := opener.Open(ctx, "acme/shop", []string{"production"}, []string{"DATABASE_URL"}); err != nil || got[0].Value() != "prod" {
		t.Errorf("production's DATABASE_URL = %v, %v; want its own", got, err)
	}
}

// BenchmarkSecretOpen measures what a deploy adds per secret: a KV read
// and an age decryption.
func BenchmarkSecretOpen(b *testing.B) {
	s := natsjs.MustServer(b)
	_, js := natsjs.MustJetStream(b, s.ClientURL())
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, natsjs.BucketSecrets)
	if err != nil {
		b.Fatal(err)
	}
	key, err := secrets.EnsureKey(filepath.Join(b.TempDir(), "age.key"))
	if err != nil {
		b.Fatal(err)
	}
	store := natsstore.NewSecretStore(kv, key)
	sealed, err := secrets.Seal(key.Recipient(), []byte("postgres://app:pw@db/shop"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := store.Put(ctx, "acme/shop", "staging", natsstore.SealedSecret{Name: "DATABASE_URL", Sealed: sealed}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := store.Open(ctx, "acme/shop", []string{"staging"}, []string{"DATABASE_URL"}); err != nil {
			b.Fatal(err)
		}
	}
}
