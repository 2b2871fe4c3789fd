package natsstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

var (
	shop = events.Repo{Forge: "github", FullName: "acme/shop", DefaultBranch: "main"}
	blog = events.Repo{Forge: "github", FullName: "acme/blog", DefaultBranch: "main"}
)

// publishLegacy publishes e as an earlier version did: on the subject of
// its environment alone, with the id of its time.
func publishLegacy(tb testing.TB, p *natsjs.Publisher, e events.Event, env, id string) {
	tb.Helper()
	envl, err := events.NewEnvelope(e, "/old", time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	envl.ID = id
	prefix := e.Subject()[:len(e.Subject())-len(events.EnvKey(shop.FullName, env))-1]
	if _, err := p.PublishEnvelope(context.Background(), events.LegacyEnvSubject(prefix, env), envl); err != nil {
		tb.Fatal(err)
	}
}

// TestDeployLogScopesByRepository: two repositories deploying "stg" have
// histories, latest requests and waits of their own; results an earlier
// version recorded on "slipway.deploy.*.stg" belong to the repository they
// name.
func TestDeployLogScopesByRepository(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := context.Background()
	p := natsjs.NewPublisher(js, "/test")
	const a, b, c = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccccccccccccccccccc"
	res := func(repo events.Repo, sha string) events.DeployResult {
		return events.DeployResult{Env: "stg", Repo: repo, Commit: sha, Request: events.DeployKey(repo.FullName, "stg", sha, "")}
	}
	old := res(shop, a)
	old.Request = "deploy.stg." + a
	publishLegacy(t, p, &events.DeploySucceeded{DeployResult: old}, "stg", old.Request+".succeeded")
	publishLegacy(t, p, &events.DeployRequested{Env: "stg", Repo: shop, Commit: a}, "stg", "deploy.stg."+a)
	for _, e := range []events.Event{
		&events.DeployRequested{Env: "stg", Repo: blog, Commit: b},
		&events.DeploySucceeded{DeployResult: res(blog, b)},
		&events.DeployRequested{Env: "stg", Repo: shop, Commit: c},
		&events.DeployFailed{DeployResult: res(shop, c)},
	} {
		if _, err := p.Publish(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	log := natsstore.NewDeployLog(js)
	tests := []struct {
		repo    string
		commits []string
		latest  string
	}{
		{shop.FullName, []string{a, c}, c},
		{blog.FullName, []string{b}, b},
		{"acme/none", nil, ""},
	}
	for _, tt := range tests {
		ds, err := log.Deploys(ctx, tt.repo, "stg")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range ds {
			got = append(got, d.Commit)
		}
		if !slices.Equal(got, tt.commits) {
			t.Errorf("Deploys(%s, stg) = %v, want %v", tt.repo, got, tt.commits)
		}
		hist, err := natsstore.DeployHistory(ctx, js, tt.repo, "stg")
		if err != nil || len(hist) != len(tt.commits) {
			t.Errorf("DeployHistory(%s, stg) = %d results, %v, want %d", tt.repo, len(hist), err, len(tt.commits))
		}
		req, err := natsstore.NewDeployQueue(js).Latest(ctx, tt.repo, "stg")
		if err != nil || (req == nil) != (tt.latest == "") || (req != nil && req.Commit != tt.latest) {
			t.Errorf("Latest(%s, stg) = %+v, %v, want commit %q", tt.repo, req, err, tt.latest)
		}
	}
	all, err := log.All(ctx)
	if err != nil || len(all[events.EnvID{Repo: shop.FullName, Env: "stg"}]) != 2 || len(all[events.EnvID{Repo: blog.FullName, Env: "stg"}]) != 1 {
		t.Errorf("All() = %v, %v, want 2 deploys of the shop's stg and 1 of the blog's", all, err)
	}
}

// TestDeployQueueAfterAnUpgrade: a request an earlier version published
// for the environment (on its subject without the repository) is the
// latest of the repository it names until a request is published after the
// upgrade; it is never another repository's.
func TestDeployQueueAfterAnUpgrade(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := context.Background()
	p := natsjs.NewPublisher(js, "/test")
	q := natsstore.NewDeployQueue(js)
	const a, b = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	publishLegacy(t, p, &events.DeployRequested{Env: "stg", Repo: shop, Commit: a}, "stg", "deploy.stg."+a)
	latest := func(repo string) string {
		t.Helper()
		req, err := q.Latest(ctx, repo, "stg")
		if err != nil {
			t.Fatal(err)
		}
		if req == nil {
			return ""
		}
		return req.Commit
	}
	if got := latest(shop.FullName); got != a {
		t.Errorf("before the upgrade's first request: latest of the shop %q, want the legacy %s", got, a)
	}
	if got := latest(blog.FullName); got != "" {
		t.Errorf("latest of the blog %q, want none: the legacy request is the shop's", got)
	}
	if _, err := p.Publish(ctx, &events.DeployRequested{Env: "stg", Repo: shop, Commit: b}); err != nil {
		t.Fatal(err)
	}
	if got := latest(shop.FullName); got != b {
		t.Errorf("after a request of this version: latest %q, want %s", got, b)
	}
}

// TestEnvStoreMigrate: records an earlier version kept under the
// environment's name move, with their history, to the key of their
// repository and environment; a record naming no repository goes to the
// only repository there is, and stays when there are several.
func TestEnvStoreMigrate(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, natsjs.BucketEnvs)
	if err != nil {
		t.Fatal(err)
	}
	put := func(key string, st deploy.State) {
		t.Helper()
		b, _ := json.Marshal(st)
		if _, err := kv.Put(ctx, key, b); err != nil {
			t.Fatal(err)
		}
	}
	const a, b = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	put("staging", deploy.State{Env: "staging", Repo: shop, Commit: a})
	put("staging", deploy.State{Env: "staging", Repo: shop, Commit: b})
	put("production", deploy.State{Env: "production", Repo: shop, Commit: a})
	put("pr-7", deploy.State{Env: "pr-7", Commit: b}) // no repository

	store := natsstore.NewEnvStore(kv)
	m, err := store.Migrate(ctx)
	if err != nil || len(m.Moved) != 3 || len(m.Left) != 0 {
		t.Fatalf("Migrate() = %+v, %v, want 3 records moved", m, err)
	}
	for env, want := range map[string]string{"staging": b, "production": a, "pr-7": b} {
		st, ok, err := store.Get(ctx, shop.FullName, env)
		if err != nil || !ok || st.Commit != want || st.Repo.FullName != shop.FullName {
			t.Errorf("Get(%s, %s) = %+v, %v, %v, want commit %s", shop.FullName, env, st, ok, err, want)
		}
		if _, err := kv.Get(ctx, env); !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Errorf("old key %s: %v, want gone", env, err)
		}
	}
	hist, err := kv.History(ctx, events.EnvKey(shop.FullName, "staging"))
	if err != nil || len(hist) != 2 {
		t.Errorf("history of the moved staging: %d revisions, %v, want 2", len(hist), err)
	}
	if m, err := store.Migrate(ctx); err != nil || len(m.Moved) != 0 {
		t.Errorf("second Migrate() = %+v, %v, want nothing to do", m, err)
	}

	// A record written since the upgrade wins over the old one.
	put(events.EnvKey(shop.FullName, "qa"), deploy.State{Env: "qa", Repo: shop, Commit: b})
	put("qa", deploy.State{Env: "qa", Repo: shop, Commit: a})
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := store.Get(ctx, shop.FullName, "qa"); st.Commit != b {
		t.Errorf("qa runs %s after the migration, want the newer record's %s", st.Commit, b)
	}

	// Two repositories: a record without one cannot be placed.
	if err := store.Record(ctx, deploy.State{Env: "staging", Repo: blog, Commit: a}); err != nil {
		t.Fatal(err)
	}
	put("pr-8", deploy.State{Env: "pr-8", Commit: a})
	m, err = store.Migrate(ctx)
	if err != nil || len(m.Moved) != 0 || !slices.Equal(m.Left, []string{"pr-8"}) {
		t.Errorf("Migrate() with two repositories = %+v, %v, want pr-8 left", m, err)
	}
	repos, err := store.Repos(ctx)
	if err != nil || !slices.Equal(repos, []string{blog.FullName, shop.FullName}) {
		t.Errorf("Repos() = %v, %v", repos, err)
	}
}
