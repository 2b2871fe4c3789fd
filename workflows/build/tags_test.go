package build_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/build"
)

// failingTagger fails the Retag of the services in fail with err.
type failingTagger struct {
	mu   sync.Mutex
	fail map[string]error
	tags []string
}

func (g *failingTagger) Present(context.Context, string, string) error { return nil }

func (g *failingTagger) Retag(_ context.Context, repo, digest, tag string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.fail[repo]; err != nil {
		return err
	}
	g.tags = append(g.tags, repo+":"+tag[:7]+"@"+digest)
	return nil
}

// TestTagReused: once a commit is built, the images its builds reused are
// tagged for it and the solved ones are not (their push tagged them); a
// registry that fails a tag fails the handling, so the event is delivered
// again; a manifest gone since the reuse is not retried.
func TestTagReused(t *testing.T) {
	tests := []struct {
		name     string
		fail     map[string]error
		wantTags []string
		wantErr  bool
	}{
		{"reused images tagged, solved ones not", nil,
			[]string{"acme/shop/api:0123456@sha256:api1", "acme/shop/db:0123456@sha256:db1"}, false},
		{"a failed tag is retried", map[string]error{"acme/shop/db": errors.New("503 Service Unavailable")},
			[]string{"acme/shop/api:0123456@sha256:api1"}, true},
		{"a manifest gone is not retried", map[string]error{"acme/shop/db": build.ErrNoManifest},
			[]string{"acme/shop/api:0123456@sha256:api1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newHandler(t, sources, &builder{})
			g := &failingTagger{fail: tt.fail}
			h.Tagger = g
			ctx := context.Background()
			built := &events.CommitBuilt{Repo: repo, Commit: sha, Branch: "main"}
			for _, s := range []struct{ name, digest, from string }{
				{"web", "sha256:web2", ""}, {"api", "sha256:api1", "fedcba9876543210fedcba9876543210fedcba98"}, {"db", "sha256:db1", "fedcba9876543210fedcba9876543210fedcba98"},
			} {
				lease, err := h.Claims.Claim(ctx, events.BuildKey(repo.FullName, sha, s.name), time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				rec, _ := json.Marshal(map[string]string{"digest": s.digest, "reused_from": s.from})
				if err := lease.Complete(ctx, rec); err != nil {
					t.Fatal(err)
				}
				built.Images = append(built.Images, events.Image{Service: events.ServiceSpec{Name: s.name},
					Ref: build.ImageRef("localhost:5000", repo.FullName, s.name, sha), Digest: s.digest})
			}
			// A service whose record is gone (expired) is not tagged here.
			built.Images = append(built.Images, events.Image{Service: events.ServiceSpec{Name: "gone"}, Digest: "sha256:gone"})
			err := h.TagReused(ctx, built)
			if (err != nil) != tt.wantErr || (err != nil && events.IsPermanent(err)) {
				t.Errorf("TagReused: %v, want an error to retry: %v", err, tt.wantErr)
			}
			slices.Sort(g.tags)
			if !slices.Equal(g.tags, tt.wantTags) {
				t.Errorf("tags put %v, want %v", g.tags, tt.wantTags)
			}
		})
	}
}
