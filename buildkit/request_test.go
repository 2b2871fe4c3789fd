package buildkit_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/slipway-dev/slipway/buildkit"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/build"
)

// TestBadRequestIsPermanent needs no buildkitd: a request no build could
// satisfy is refused before any connection.
func TestBadRequestIsPermanent(t *testing.T) {
	good := writeContext(t, map[string]string{"Dockerfile": "FROM scratch\n"})
	good.Image = "localhost:5000/acme/web:abc"
	outside := t.TempDir() // a host directory a link of the checkout leads to
	writeFile(t, filepath.Join(outside, "Dockerfile"), "FROM scratch\n")
	if err := os.Symlink(outside, filepath.Join(good.ContextDir, "out")); err != nil {
		t.Fatal(err)
	}
	good.Checkout = good.ContextDir
	with := func(edit func(*build.Request)) build.Request {
		r := good
		edit(&r)
		return r
	}
	tests := []struct {
		name string
		req  build.Request
	}{
		{"no image", with(func(r *build.Request) { r.Image = "" })},
		{"invalid image", with(func(r *build.Request) { r.Image = "localhost:5000/Acme/Web:abc" })},
		{"invalid cache ref", with(func(r *build.Request) { r.CacheRef = "not a ref" })},
		{"relative context", with(func(r *build.Request) { r.ContextDir = "services/web" })},
		{"relative Dockerfile", with(func(r *build.Request) { r.Dockerfile = "Dockerfile" })},
		{"missing context", with(func(r *build.Request) { r.ContextDir = filepath.Join(t.TempDir(), "nope") })},
		{"missing Dockerfile", with(func(r *build.Request) { r.Dockerfile = filepath.Join(r.ContextDir, "nope") })},
		{"Dockerfile is a dir", with(func(r *build.Request) { r.Dockerfile = r.ContextDir })},
		{"context through a link out of the checkout", with(func(r *build.Request) {
			r.ContextDir = filepath.Join(r.Checkout, "out")
			r.Dockerfile = filepath.Join(r.ContextDir, "Dockerfile")
		})},
		{"Dockerfile through a link out of the checkout", with(func(r *build.Request) { r.Dockerfile = filepath.Join(r.Checkout, "out", "Dockerfile") })},
		{"context outside the checkout", with(func(r *build.Request) {
			r.ContextDir = outside
			r.Dockerfile = filepath.Join(outside, "Dockerfile")
		})},
	}
	b, err := buildkit.New(context.Background(), "unix://"+filepath.Join(t.TempDir(), "none.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := b.Build(context.Background(), tt.req); !events.IsPermanent(err) {
				t.Errorf("Build() error = %v, want permanent", err)
			}
		})
	}
}
