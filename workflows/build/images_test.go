package build_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/build"
)

// TestBuiltImages reads back what the builds of a commit recorded: the
// images a release deploys without building again.
func TestBuiltImages(t *testing.T) {
	b := &builder{}
	h, p := newHandler(t, sources, b)
	ctx := context.Background()
	reqs := requests()
	if _, err := build.BuiltImages(ctx, h.Claims, repo.FullName, sha, []string{"web", "api"}); !errors.Is(err, build.ErrNotBuilt) {
		t.Fatalf("before any build: err = %v, want ErrNotBuilt", err)
	}
	if err := h.HandleBuild(ctx, reqs[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := build.BuiltImages(ctx, h.Claims, repo.FullName, sha, []string{"web", "api"}); !errors.Is(err, build.ErrNotBuilt) {
		t.Fatalf("with api not built: err = %v, want ErrNotBuilt", err)
	}
	if err := h.HandleBuild(ctx, reqs[1]); err != nil {
		t.Fatal(err)
	}
	got, err := build.BuiltImages(ctx, h.Claims, repo.FullName, sha, []string{"web", "api"})
	if err != nil {
		t.Fatal(err)
	}
	want := p.OfType(events.TypeCommitBuilt)[0].(*events.CommitBuilt).Images
	if !reflect.DeepEqual(got, want) {
		t.Errorf("BuiltImages() = %+v, want the commit-built images %+v", got, want)
	}
	if _, err := build.BuiltImages(ctx, h.Claims, repo.FullName, sha, nil); !errors.Is(err, build.ErrNotBuilt) {
		t.Errorf("no services: err = %v, want ErrNotBuilt", err)
	}

	b.err = events.Permanent(errors.New("RUN make: exit 2"))
	failed := *reqs[0]
	failed.Commit = "fedcba9876543210fedcba9876543210fedcba98"
	_ = h.HandleBuild(ctx, &failed)
	if _, err := build.BuiltImages(ctx, h.Claims, repo.FullName, failed.Commit, []string{"web"}); !errors.Is(err, build.ErrNotBuilt) {
		t.Errorf("failed build: err = %v, want ErrNotBuilt", err)
	}
}
