package target_test

import (
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
)

// TestUnchanged: instances started from one deployment are unchanged for
// another exactly when its digest, repository, declared service and
// secret versions are the same; the commit, the image's tag and what only
// building needs do not count.
func TestUnchanged(t *testing.T) {
	dgst := "sha256:" + strings.Repeat("ab", 32)
	web := events.Image{
		Ref: "localhost:5000/acme/shop/web:v1", Digest: dgst,
		Service: events.ServiceSpec{Name: "web", Port: 8080, HealthPath: "/healthz", Env: map[string]string{"A": "1"}, Secrets: []string{"DB"}},
	}
	v1 := deploy.Deployment{Repo: "acme/shop", Env: "prod", Commit: "v1", Images: []events.Image{web},
		Secrets: []deploy.Secret{deploy.NewSecret("DB", 1, "one"), deploy.NewSecret("OTHER", 4, "x")}}
	was := target.ValuesOf(v1, web)
	tests := []struct {
		name   string
		change func(d *deploy.Deployment, img *events.Image)
		want   bool
	}{
		{name: "another commit", change: func(d *deploy.Deployment, _ *events.Image) { d.Commit = "v2" }, want: true},
		{name: "another tag", change: func(_ *deploy.Deployment, img *events.Image) { img.Ref = "localhost:5000/acme/shop/web:v2" }, want: true},
		{name: "pinned by digest", change: func(_ *deploy.Deployment, img *events.Image) { img.Ref = "localhost:5000/acme/shop/web@" + dgst }, want: true},
		{name: "build context", change: func(_ *deploy.Deployment, img *events.Image) {
			img.Service.Context, img.Service.Dockerfile = "web", "web/Dockerfile"
		}, want: true},
		{name: "a secret it does not reference", change: func(d *deploy.Deployment, _ *events.Image) {
			d.Secrets = []deploy.Secret{deploy.NewSecret("DB", 1, "one"), deploy.NewSecret("OTHER", 5, "y")}
		}, want: true},
		{name: "another digest", change: func(_ *deploy.Deployment, img *events.Image) { img.Digest = "sha256:" + strings.Repeat("cd", 32) }},
		{name: "another repository", change: func(_ *deploy.Deployment, img *events.Image) { img.Ref = "localhost:5000/acme/shop/api:v1" }},
		{name: "another registry port", change: func(_ *deploy.Deployment, img *events.Image) { img.Ref = "localhost:5001/acme/shop/web:v1" }},
		{name: "env", change: func(_ *deploy.Deployment, img *events.Image) { img.Service.Env = map[string]string{"A": "2"} }},
		{name: "replicas", change: func(_ *deploy.Deployment, img *events.Image) { img.Service.Replicas = 2 }},
		{name: "port", change: func(_ *deploy.Deployment, img *events.Image) { img.Service.Port = 9090 }},
		{name: "health path", change: func(_ *deploy.Deployment, img *events.Image) { img.Service.HealthPath = "/ready" }},
		{name: "secret version", change: func(d *deploy.Deployment, _ *events.Image) {
			d.Secrets = []deploy.Secret{deploy.NewSecret("DB", 2, "two")}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, img := v1, web
			img.Service.Env = map[string]string{"A": "1"}
			tt.change(&d, &img)
			d.Images = []events.Image{img}
			if got := target.Unchanged(was, d, img); got != tt.want {
				t.Errorf("Unchanged(%+v, %+v) = %v, want %v", was, target.ValuesOf(d, img), got, tt.want)
			}
		})
	}
	if target.Unchanged(target.Values{}, v1, web) {
		t.Error("Unchanged of instances with no recorded values = true, want false")
	}
}

func TestRepository(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "tag", in: "localhost:5000/acme/web:v1", want: "localhost:5000/acme/web"},
		{name: "no tag", in: "localhost:5000/acme/web", want: "localhost:5000/acme/web"},
		{name: "digest", in: "localhost:5000/acme/web@sha256:ab", want: "localhost:5000/acme/web"},
		{name: "tag and digest", in: "registry.example.com/web:v2@sha256:ab", want: "registry.example.com/web"},
		{name: "short name", in: "busybox:1.36", want: "busybox"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := target.Repository(tt.in); got != tt.want {
				t.Errorf("Repository(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
