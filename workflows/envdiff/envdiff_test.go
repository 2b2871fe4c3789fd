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

func TestCompare(t *testing.T) {
	base := envdiff.Side{Env: "staging", Commit: "c1", Images: []events.Image{img("api", "d1", 0, map[string]string{"MODE": "x"})}}
	tests := []struct {
		name    string
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
			b: envdiff.Side{Commit: "c1", Target: "eu", Images: []events.Image{img("api", "d1", 3, map[string]string{"MODE": "y", "NEW": "1"}, "shop.test")},
				Secrets: map[string][]string{"api": {"DB_PASSWORD"}}},
			want: []string{"target: local ≠ eu", "replicas of api: 1 ≠ 3", "hosts of api: (none) ≠ shop.test", "values of api MODE: x ≠ y",
				"values of api NEW: (none) ≠ 1", "secrets of api DB_PASSWORD: (none) ≠ set"},
			wantBad: []string{"target: local ≠ eu", "replicas of api: 1 ≠ 3", "values of api MODE: x ≠ y",
				"values of api NEW: (none) ≠ 1", "secrets of api DB_PASSWORD: (none) ≠ set"}},
		{name: "a service missing", differs: []string{"values", "replicas"},
			b:       envdiff.Side{Commit: "c1"},
			want:    []string{"image of api: d1 ≠ (none)", "replicas of api: 1 ≠ (none)", "values of api MODE: x ≠ (none)"},
			wantBad: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := envdiff.Compare(base, tt.b)
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
