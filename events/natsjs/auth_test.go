package natsjs_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events/natsjs"
)

// TestServerRefusesUnauthenticated: the embedded server of `slipway up`
// accepts no connection without a role key, and says so at once.
func TestServerRefusesUnauthenticated(t *testing.T) {
	s, _ := natsjs.MustAuthServer(t, testTopology())
	start := time.Now()
	nc, err := natsjs.Connect(s.ClientURL(), t.Name())
	if err == nil {
		nc.Close()
		t.Fatal("an unauthenticated connection was accepted")
	}
	if !strings.Contains(err.Error(), s.ClientURL()) || !strings.Contains(err.Error(), "refused the credentials") {
		t.Errorf("error = %q, want it to name %s and the refusal", err, s.ClientURL())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusal took %s, want it at once", d)
	}
}

// TestRolePermissions publishes, as each role, what it may and may not,
// against the real server, and checks from the stream what was stored.
func TestRolePermissions(t *testing.T) {
	s, keys := natsjs.MustAuthServer(t, testTopology())
	_, admin := natsjs.MustRoleJetStream(t, s.ClientURL(), keys, natsjs.RoleAdmin)
	tests := []struct {
		role    natsjs.Role
		subject string
		allowed bool
	}{
		{natsjs.RoleBuilder, "slipway.deploy.requested.x", false},
		{natsjs.RoleBuilder, "slipway.push.received", false},
		{natsjs.RoleBuilder, "slipway.build.requested", true},
		{natsjs.RoleIngest, "slipway.build.requested", false},
		{natsjs.RoleIngest, "slipway.deploy.requested.x", false},
		{natsjs.RoleIngest, "slipway.push.received", true},
		{natsjs.RoleIngest, "slipway.ingest.delivery", true},
		{natsjs.RoleDeployer, "slipway.push.received", false},
		{natsjs.RoleDeployer, "slipway.deploy.requested.x", true},
	}
	for _, tt := range tests {
		t.Run(string(tt.role)+" "+tt.subject, func(t *testing.T) {
			errs := make(chan error, 8)
			_, js := natsjs.MustRoleJetStream(t, s.ClientURL(), keys, tt.role,
				nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			m := nats.NewMsg(tt.subject)
			m.Header.Set(nats.MsgIdHdr, t.Name())
			_, err := js.PublishMsg(ctx, m)
			if tt.allowed {
				if err != nil {
					t.Fatalf("publish: %v", err)
				}
			} else {
				if err == nil {
					t.Fatal("publish acknowledged, want it refused")
				}
				requireViolation(t, errs, tt.subject)
			}
			if got := stored(t, admin, tt.subject, t.Name()); got != tt.allowed {
				t.Errorf("stored = %v, want %v", got, tt.allowed)
			}
		})
	}
}

// TestRolesMayNotChangeTheTopology: no role but admin creates or deletes a
// stream or a durable consumer, or pulls another role's consumer.
func TestRolesMayNotChangeTheTopology(t *testing.T) {
	s, keys := natsjs.MustAuthServer(t, testTopology())
	_, admin := natsjs.MustRoleJetStream(t, s.ClientURL(), keys, natsjs.RoleAdmin)
	ctx := context.Background()
	tests := []struct {
		name string
		role natsjs.Role
		api  string
	}{
		{"builder deletes the stream", natsjs.RoleBuilder, "$JS.API.STREAM.DELETE." + natsjs.StreamName},
		{"ingest purges the stream", natsjs.RoleIngest, "$JS.API.STREAM.PURGE." + natsjs.StreamName},
		{"builder creates a stream", natsjs.RoleBuilder, "$JS.API.STREAM.CREATE.EVIL"},
		{"builder deletes deployer-deploy", natsjs.RoleBuilder, "$JS.API.CONSUMER.DELETE." + natsjs.StreamName + "." + consumerDeploy},
		{"deployer rewrites builder-push", natsjs.RoleDeployer, "$JS.API.CONSUMER.CREATE." + natsjs.StreamName + "." + consumerPush},
		{"builder pulls deployer-deploy", natsjs.RoleBuilder, "$JS.API.CONSUMER.MSG.NEXT." + natsjs.StreamName + "." + consumerDeploy},
		{"builder writes a deploy claim", natsjs.RoleBuilder, "$KV." + natsjs.BucketClaims + ".deploy.staging.x"},
		{"ingest writes an environment", natsjs.RoleIngest, "$KV." + natsjs.BucketEnvs + ".staging"},
		{"builder replies into the deployer's inbox", natsjs.RoleBuilder, natsjs.InboxPrefix(natsjs.RoleDeployer) + ".x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := make(chan error, 8)
			nc, _ := natsjs.MustRoleJetStream(t, s.ClientURL(), keys, tt.role,
				nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
			if err := nc.Publish(tt.api, []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			requireViolation(t, errs, tt.api)
		})
	}
	if _, err := admin.Stream(ctx, natsjs.StreamName); err != nil {
		t.Errorf("stream gone: %v", err)
	}
	for _, c := range []string{consumerDeploy, consumerPush} {
		if _, err := admin.Consumer(ctx, natsjs.StreamName, c); err != nil {
			t.Errorf("consumer %s gone: %v", c, err)
		}
	}
}

// TestRoleSubscribesToItsOwnInboxOnly: a builder may not listen to the
// replies another role receives.
func TestRoleSubscribesToItsOwnInboxOnly(t *testing.T) {
	s, keys := natsjs.MustAuthServer(t, testTopology())
	for _, subject := range []string{"_INBOX.>", natsjs.InboxPrefix(natsjs.RoleDeployer) + ".>", ">"} {
		errs := make(chan error, 8)
		nc, _ := natsjs.MustRoleJetStream(t, s.ClientURL(), keys, natsjs.RoleBuilder,
			nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
		if _, err := nc.SubscribeSync(subject); err != nil {
			t.Fatal(err)
		}
		requireViolation(t, errs, subject)
	}
}

// TestEnsureKeys keeps the seeds it made, and refuses one others may read.
func TestEnsureKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), natsjs.KeysDirName)
	first, err := natsjs.EnsureKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	seed := first.SeedFile(natsjs.RoleBuilder)
	before, err := os.ReadFile(seed)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(seed)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("seed mode %v (%v), want 0600", info.Mode().Perm(), err)
	}
	if _, err := natsjs.EnsureKeys(dir); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(seed)
	if string(after) != string(before) {
		t.Error("a second start replaced the seed")
	}
	if err := os.Chmod(seed, 0o640); err != nil {
		t.Fatal(err)
	}
	_, err = natsjs.EnsureKeys(dir)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("group-readable seed: err = %v, want a refusal", err)
	}
	if err != nil && strings.Contains(err.Error(), strings.TrimSpace(string(before))) {
		t.Error("the error shows the seed")
	}
}

// TestServerBeyondLoopbackNeedsKeys: without keys the server listens on
// loopback only.
func TestServerBeyondLoopbackNeedsKeys(t *testing.T) {
	s, err := natsjs.StartServer(natsjs.ServerConfig{Dir: t.TempDir(), Host: "0.0.0.0", Port: -1})
	if err == nil {
		s.Shutdown()
		t.Fatal("started on 0.0.0.0 without credentials")
	}
	if !strings.Contains(err.Error(), "needs credentials") {
		t.Errorf("err = %v", err)
	}
}

// requireViolation waits for the server's permissions violation about
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

// stored reports whether the stream holds a message of id on subject.
func stored(t *testing.T, js jetstream.JetStream, subject, id string) bool {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, natsjs.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return m.Header.Get(nats.MsgIdHdr) == id
}
