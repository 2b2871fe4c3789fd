package envdiff_test

import (
	"reflect"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/envdiff"
)

func img(name, digest string, replicas int, env map[string]string, hosts ...string) events.Image {
	return events.Image{Service: events.ServiceSpec{Name: name, Replicas: replicas, Env: env, Hosts: hosts}, Digest: digest}
}

// withSecrets is image with its service referencing names.
func withSecrets(image events.Image, names ...string) events.Image {
	image.Service.Secrets = names
	return image
}

func TestCompare(t *testing.T) {
	base := envdiff.Side{Env: "staging", Commit: "c1", Images: []events.Image{img("api", "d1", 0, map[string]string{"MODE": "x"})}}
	tests := []struct {
		name    string
		a       *envdiff.Side // nil: base
		b       envdiff.Side
		differs []string
		want    []string // every difference
		wantBad []string // the unexpected ones
	}{
		{name: "same", b: base},
		{name: "commit and digest only",
			b:    envdiff.Side{Commit: "c2", Images: []events.Image{img("api", "d2", 1, map[string]string{"MODE": "x"})}},
			want: []string{"commit: c1 ≠ c2", "image of api: d1 ≠ d2"}},
		{name: "config", differs: []string{"hosts"},
			b: envdiff.Side{Commit: "c1", Target: "eu", Images: []events.Image{withSecrets(img("api", "d1", 3, map[string]string{"MODE": "y", "NEW": "1"}, "shop.test"), "DB_PASSWORD")}},
			want: []string{"target: local ≠ eu", "replicas of api: 1 ≠ 3", "hosts of api: (none) ≠ shop.test", "values of api MODE: x ≠ y",
				"values of api NEW: (none) ≠ 1", "secrets of api DB_PASSWORD: (none) ≠ set"},
			wantBad: []string{"target: local ≠ eu", "replicas of api: 1 ≠ 3", "values of api MODE: x ≠ y",
				"values of api NEW: (none) ≠ 1", "secrets of api DB_PASSWORD: (none) ≠ set"}},
		{name: "a service missing", differs: []string{"values", "replicas"},
			b:       envdiff.Side{Commit: "c1"},
			want:    []string{"image of api: d1 ≠ (none)", "replicas of api: 1 ≠ (none)", "values of api MODE: x ≠ (none)"},
			wantBad: nil},
		{name: "secrets: versions of two environments are not compared, their states are",
			a: &envdiff.Side{Commit: "c1", Images: []events.Image{withSecrets(img("api", "d1", 0, nil), "A", "B", "C", "D", "E")},
				Secrets: map[string]envdiff.Secret{"A": {Deployed: 3, Set: 3}, "B": {Deployed: 4, Set: 4}, "C": {Deployed: 5, Set: 5}, "D": {Deployed: 6, Set: 0}}},
			b: envdiff.Side{Commit: "c1", Images: []events.Image{withSecrets(img("api", "d1", 0, nil), "A", "B", "C", "E", "F")},
				Secrets: map[string]envdiff.Secret{"A": {Deployed: 10, Set: 10}, "B": {Deployed: 11, Set: 14}, "E": {Deployed: 12, Set: 12}, "F": {Set: 0}}},
			want: []string{"secrets of api B: v4 ≠ v11, v14 set since (not deployed)", "secrets of api D: v6 deployed, removed since ≠ (none)",
				"secrets of api F: (none) ≠ not set"},
			wantBad: []string{"secrets of api B: v4 ≠ v11, v14 set since (not deployed)", "secrets of api D: v6 deployed, removed since ≠ (none)",
				"secrets of api F: (none) ≠ not set"}},
		{name: "secrets may differ", differs: []string{"secrets"},
			a:    &envdiff.Side{Commit: "c1", Images: []events.Image{withSecrets(img("api", "d1", 0, nil), "A")}, Secrets: map[string]envdiff.Secret{"A": {Deployed: 3, Set: 3}}},
			b:    envdiff.Side{Commit: "c1", Images: []events.Image{img("api", "d1", 0, nil)}},
			want: []string{"secrets of api A: v3 ≠ (none)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := base
			if tt.a != nil {
				a = *tt.a
			}
			all := envdiff.Compare(a, tt.b)
			if got := strs(all); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Compare:\n got %q\nwant %q", got, tt.want)
			}
			if got := strs(envdiff.Unexpected(all, tt.differs)); !reflect.DeepEqual(got, tt.wantBad) {
				t.Errorf("Unexpected:\n got %q\nwant %q", got, tt.wantBad)
			}
		})
	}
}

func strs(ds []envdiff.Difference) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.String())
	}
	return out
}
