package hosts_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/hosts"
)

// mustClaimer returns a Claimer on a real KV bucket, granting acme/shop
// "*.shop.example.com" and "shop.example.com", and acme/blog both as well
// (so that only the first claim decides between them).
func mustClaimer(tb testing.TB) (*hosts.Claimer, *natsstore.HostStore) {
	tb.Helper()
	s := natsjs.MustServer(tb)
	_, js := natsjs.MustJetStream(tb, s.ClientURL())
	kv, err := js.KeyValue(context.Background(), natsjs.BucketHosts)
	if err != nil {
		tb.Fatal(err)
	}
	g := hosts.Grants{}
	for _, f := range []string{"acme/shop=*.shop.example.com,shop.example.com", "acme/blog=*.shop.example.com,shop.example.com,blog.example.com"} {
		if err := g.Set(f); err != nil {
			tb.Fatal(err)
		}
	}
	store := natsstore.NewHostStore(kv)
	return &hosts.Claimer{Store: store, Grants: g, Domain: "localhost"}, store
}

// images are services each declaring hosts: "web=a.com,b.com".
func images(specs ...string) []events.Image {
	var out []events.Image
	for _, s := range specs {
		name, list, _ := strings.Cut(s, "=")
		svc := events.ServiceSpec{Name: name}
		if list != "" {
			svc.Hosts = strings.Split(list, ",")
		}
		out = append(out, events.Image{Service: svc})
	}
	return out
}

// holders returns each claimed host's "repo env service".
func holders(tb testing.TB, store *natsstore.HostStore) map[string]string {
	tb.Helper()
	all, err := store.List(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range all {
		out[c.Host] = c.Repo + " " + c.Env + " " + c.Service
	}
	return out
}

func TestClaimer(t *testing.T) {
	type step struct {
		repo, env string
		images    []events.Image
		wantErr   string // "" for success
	}
	tests := []struct {
		name  string
		steps []step
		want  map[string]string
	}{
		{"granted hosts are claimed", []step{
			{"acme/shop", "production", images("web=shop.example.com,www.shop.example.com"), ""},
		}, map[string]string{"shop.example.com": "acme/shop production web", "www.shop.example.com": "acme/shop production web"}},
		{"a host not granted is refused, nothing claimed", []step{
			{"acme/shop", "production", images("web=www.shop.example.com,blog.example.com"), "host blog.example.com is not granted to acme/shop"},
		}, map[string]string{}},
		{"another repository's host is refused, the owner keeps it", []step{
			{"acme/shop", "production", images("web=shop.example.com"), ""},
			{"acme/blog", "production", images("web=blog.example.com,shop.example.com"), "host shop.example.com is served by production of acme/shop"},
		}, map[string]string{"shop.example.com": "acme/shop production web"}},
		{"another environment of the same repository is refused too", []step{
			{"acme/shop", "production", images("web=shop.example.com"), ""},
			{"acme/shop", "staging", images("web=shop.example.com"), "host shop.example.com is served by production of acme/shop"},
		}, map[string]string{"shop.example.com": "acme/shop production web"}},
		{"two services of one deploy", []step{
			{"acme/shop", "production", images("web=shop.example.com", "api=shop.example.com"), "declared by both services web and api"},
		}, map[string]string{}},
		{"a default host's form is refused", []step{
			{"acme/shop", "production", images("web=web.production.blog.localhost"), "has the form <service>.<env>.<repository>.localhost"},
		}, map[string]string{}},
		{"redeploying keeps, moves and drops claims", []step{
			{"acme/shop", "production", images("web=shop.example.com,www.shop.example.com"), ""},
			{"acme/shop", "production", images("web=www.shop.example.com", "api=shop.example.com"), ""},
		}, map[string]string{"shop.example.com": "acme/shop production api", "www.shop.example.com": "acme/shop production web"}},
		{"a released host can be claimed by another", []step{
			{"acme/shop", "production", images("web=shop.example.com"), ""},
			{"acme/shop", "production", images("web"), ""},
			{"acme/blog", "production", images("web=shop.example.com"), ""},
		}, map[string]string{"shop.example.com": "acme/blog production web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, store := mustClaimer(t)
			ctx := context.Background()
			for i, st := range tt.steps {
				_, err := c.Claim(ctx, st.repo, st.env, st.images)
				if st.wantErr == "" && err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if st.wantErr != "" {
					if !events.IsPermanent(err) || !errors.Is(err, hosts.ErrRefused) || !strings.Contains(err.Error(), st.wantErr) {
						t.Fatalf("step %d: err = %v, want permanent, refused, containing %q", i, err, st.wantErr)
					}
					continue
				}
				if err := c.Prune(ctx, st.repo, st.env, st.images); err != nil {
					t.Fatalf("step %d: prune: %v", i, err)
				}
			}
			if got := holders(t, store); !equal(got, tt.want) {
				t.Errorf("claims %v, want %v", got, tt.want)
			}
		})
	}
}

// TestClaimerUndoAndLabels: undo gives back what a failed deploy claimed;
// each repository gets a host label of its own, the first one the short
// one, and keeps it.
func TestClaimerUndoAndLabels(t *testing.T) {
	c, store := mustClaimer(t)
	ctx := context.Background()
	undo, err := c.Claim(ctx, "acme/shop", "production", images("web=shop.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	undo(ctx)
	if got := holders(t, store); len(got) != 0 {
		t.Errorf("claims after undo: %v", got)
	}
	for _, tt := range []struct{ repo, want string }{
		{"acme/shop", "shop"}, {"other/shop", "shop-other"}, {"acme/shop", "shop"}, {"third/shop", "shop-third"},
	} {
		if got, err := c.Label(ctx, tt.repo); err != nil || got != tt.want {
			t.Errorf("Label(%s) = %q, %v, want %q", tt.repo, got, err, tt.want)
		}
	}
}

// TestClaimerLegacy: the hosts an installation served before the upgrade
// stay with its repository, without a grant, and go with the service.
func TestClaimerLegacy(t *testing.T) {
	c, store := mustClaimer(t)
	c.Grants = hosts.Grants{}
	ctx := context.Background()
	shop := events.Repo{FullName: "acme/shop"}
	states := []deploy.State{
		{Env: "production", Repo: shop, Images: images("web=legacy.example.com", "api")},
		{Env: "staging", Repo: shop, Images: images("web=legacy.example.com")},
	}
	if err := c.Legacy(ctx, states); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"web.production.localhost": "acme/shop production web", "api.production.localhost": "acme/shop production api",
		"web.staging.localhost": "acme/shop staging web", "legacy.example.com": "acme/shop production web",
	}
	if got := holders(t, store); !equal(got, want) {
		t.Fatalf("claims %v, want %v", got, want)
	}
	if _, err := c.Claim(ctx, "acme/shop", "production", images("web=legacy.example.com", "api")); err != nil {
		t.Errorf("redeploying a legacy host without a grant: %v", err)
	}
	if _, err := c.Claim(ctx, "acme/shop", "production", images("web=legacy.example.com,new.example.com")); !errors.Is(err, hosts.ErrRefused) {
		t.Errorf("a new host without a grant: %v, want refused", err)
	}
	if err := c.Prune(ctx, "acme/shop", "production", images("web=legacy.example.com")); err != nil {
		t.Fatal(err)
	}
	if _, ok := holders(t, store)["api.production.localhost"]; ok {
		t.Error("the legacy host of a service gone is still claimed")
	}
	if l, err := c.Label(ctx, "acme/shop"); err != nil || l != "shop" {
		t.Errorf("label after Legacy: %q, %v", l, err)
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
