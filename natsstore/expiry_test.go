package natsstore_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows"
)

// TestClaimsOfCompletedStepsExpire: the claims bucket stays bounded. The
// completed claims of builds, commits and deploys go once their retention
// passed; a running lease kept renewed, a released one and a completed
// task's claim (a task must never run twice) stay; an expired step is
// claimed afresh; and the retention is provisioned from the stream's.
func TestClaimsOfCompletedStepsExpire(t *testing.T) {
	topo := natsjs.DefaultTopology()
	topo.ClaimRetention, topo.AllowShortRetention = 2*time.Second, true
	s := natsjs.MustServerWith(t, topo)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := context.Background()
	claims, err := natsstore.OpenClaims(ctx, js, "w")
	if err != nil {
		t.Fatal(err)
	}
	var done []string
	for i := range 100 {
		sha := string(rune('a'+i%26)) + "0123456789abcdef0123456789abcdef012345" + string(rune('a'+i/26))
		done = append(done, events.BuildKey("acme/shop", sha, "web"), events.CommitKey("acme/shop", "main", sha), events.DeployKey("acme/shop", "staging", sha, ""))
	}
	for _, k := range done {
		mustComplete(t, claims, k)
	}
	task := events.TaskKey("acme/shop", "staging", "sha1", "web", "migrate")
	mustComplete(t, claims, task)
	running, err := claims.Claim(ctx, "deploy.running", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	released, err := claims.Claim(ctx, "build.released", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := released.Release(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"build.released", "deploy.running", task}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := running.Renew(ctx); err != nil {
			t.Fatalf("renew the running lease: %v", err)
		}
		keys := mustKeys(t, claims.KV())
		if slices.Equal(keys, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("claims after their retention: %d keys (first %v), want %v", len(keys), keys[:min(3, len(keys))], want)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := claims.Claim(ctx, task, time.Minute); !errors.Is(err, events.ErrAlreadyDone) {
		t.Fatalf("claim the completed task again: err = %v, want ErrAlreadyDone", err)
	}
	if _, err := claims.Result(ctx, done[0]); !errors.Is(err, workflows.ErrNoResult) {
		t.Fatalf("result of an expired build claim: err = %v, want ErrNoResult", err)
	}
	again, err := claims.Claim(ctx, done[0], time.Minute)
	if err != nil {
		t.Fatalf("claim an expired step afresh: %v", err)
	}
	if err := again.Complete(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := claims.Claim(ctx, done[0], time.Minute); !errors.Is(err, events.ErrAlreadyDone) {
		t.Fatalf("claim it a third time: err = %v, want ErrAlreadyDone", err)
	}

	// The default retention is the stream's, plus its duplicate window.
	def := natsjs.MustServer(t)
	_, djs := natsjs.MustJetStream(t, def.ClientURL())
	kv, err := djs.KeyValue(ctx, natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	got, err := natsjs.ClaimRetention(ctx, kv)
	if d := natsjs.DefaultTopology(); err != nil || got != d.MaxAge+d.DuplicateWindow {
		t.Fatalf("default claim retention = %s, %v; want %s", got, err, d.MaxAge+d.DuplicateWindow)
	}
}

func mustComplete(t *testing.T, claims *natsstore.Claims, key string) {
	t.Helper()
	l, err := claims.Claim(context.Background(), key, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Complete(context.Background(), []byte(`{"outcome":"succeeded"}`)); err != nil {
		t.Fatal(err)
	}
}

func mustKeys(t *testing.T, kv jetstream.KeyValue) []string {
	t.Helper()
	l, err := kv.ListKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range l.Keys() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestExpiringClaimsUnderRolePermissions: a builder and a deployer,
// connected with their roles' permissions, open the expiring claims,
// complete their steps with a TTL and read the read model's builds.
func TestExpiringClaimsUnderRolePermissions(t *testing.T) {
	s, keys := natsjs.MustAuthServer(t, natsjs.DefaultTopology())
	ctx := context.Background()
	for _, tt := range []struct {
		role natsjs.Role
		key  string
	}{
		{natsjs.RoleBuilder, events.BuildKey("acme/shop", "0123456789abcdef0123456789abcdef01234567", "web")},
		{natsjs.RoleDeployer, events.DeployKey("acme/shop", "staging", "0123456789abcdef0123456789abcdef01234567", "")},
	} {
		t.Run(string(tt.role), func(t *testing.T) {
			_, js := natsjs.MustRoleJetStream(t, s.ClientURL(), keys, tt.role)
			claims, err := natsstore.OpenClaims(ctx, js, string(tt.role))
			if err != nil {
				t.Fatal(err)
			}
			mustComplete(t, claims, tt.key)
			if _, err := claims.Claim(ctx, tt.key, time.Minute); !errors.Is(err, events.ErrAlreadyDone) {
				t.Fatalf("claim again: %v, want ErrAlreadyDone", err)
			}
			if _, _, ok, err := claims.RecordedBuild(ctx, "acme/shop", "0123456789abcdef0123456789abcdef01234567", "web"); err != nil || ok {
				t.Fatalf("RecordedBuild of a commit the read model does not know = %v, %v", ok, err)
			}
		})
	}
}
