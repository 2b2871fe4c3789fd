package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/slipway-dev/slipway/events/natsjs"
)

// TestSecretsBucketPermissions: with the role keys of `slipway up` and
// the permissions derived from Topology(), only the deployer reads the
// sealed secrets, and it writes nothing there but its recipient; builder
// and ingest neither read nor write them; the operator (admin) writes them.
func TestSecretsBucketPermissions(t *testing.T) {
	s, keys := natsjs.MustAuthServer(t, Topology())
	ctx := context.Background()
	_, admin := natsjs.MustRoleJetStream(t, s.ClientURL(), keys, natsjs.RoleAdmin)
	akv, err := admin.KeyValue(ctx, natsjs.BucketSecrets)
	if err != nil {
		t.Fatal(err)
	}
	const key = "secret.acme_2fshop.staging.DB"
	if _, err := akv.Put(ctx, key, []byte("sealed-by-admin")); err != nil {
		t.Fatalf("admin writes a secret: %v", err)
	}

	for _, role := range []natsjs.Role{natsjs.RoleBuilder, natsjs.RoleIngest} {
		t.Run(string(role)+" reads nothing", func(t *testing.T) {
			errs := make(chan error, 16)
			nc, js := natsjs.MustRoleJetStream(t, s.ClientURL(), keys, role,
				nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if kv, err := js.KeyValue(cctx, natsjs.BucketSecrets); err == nil {
				if e, err := kv.Get(cctx, key); err == nil {
					t.Fatalf("%s read %s: %q", role, key, e.Value())
				}
			}
			for _, api := range []string{
				"$JS.API.DIRECT.GET.KV_" + natsjs.BucketSecrets + ".$KV." + natsjs.BucketSecrets + "." + key,
				"$JS.API.STREAM.MSG.GET.KV_" + natsjs.BucketSecrets,
				"$JS.API.CONSUMER.CREATE.KV_" + natsjs.BucketSecrets + ".x",
				"$KV." + natsjs.BucketSecrets + "." + key,
			} {
				if err := nc.Publish(api, []byte(`{}`)); err != nil {
					t.Fatal(err)
				}
				requireViolation(t, errs, api)
			}
			if _, err := nc.SubscribeSync("$KV." + natsjs.BucketSecrets + ".>"); err != nil {
				t.Fatal(err)
			}
			requireViolation(t, errs, "$KV."+natsjs.BucketSecrets+".>")
		})
	}

	t.Run("deployer reads, writes only its recipient", func(t *testing.T) {
		errs := make(chan error, 16)
		_, js := natsjs.MustRoleJetStream(t, s.ClientURL(), keys, natsjs.RoleDeployer,
			nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
		kv, err := js.KeyValue(ctx, natsjs.BucketSecrets)
		if err != nil {
			t.Fatal(err)
		}
		if e, err := kv.Get(ctx, key); err != nil || string(e.Value()) != "sealed-by-admin" {
			t.Fatalf("deployer Get(%s) = %v; want the sealed value", key, err)
		}
		if _, err := kv.Put(ctx, "recipient", []byte("age1x")); err != nil {
			t.Fatalf("deployer publishes its recipient: %v", err)
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err := kv.Put(cctx, key, []byte("forged")); err == nil {
			t.Fatal("deployer overwrote a secret")
		}
		requireViolation(t, errs, "$KV."+natsjs.BucketSecrets+"."+key)
	})
	if e, err := akv.Get(ctx, key); err != nil || string(e.Value()) != "sealed-by-admin" {
		t.Errorf("after the attempts, %s = %v; want it unchanged", key, err)
	}
}

// requireViolation waits for the server's permissions violation on
// subject.
func requireViolation(t *testing.T, errs <-chan error, subject string) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case err := <-errs:
			if errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), `"`+subject+`"`) {
				return
			}
		case <-timeout:
			t.Fatalf("no permissions violation reported for %s", subject)
		}
	}
}
