package pipeline

import (
	"flag"
	"reflect"
	"testing"
)

func TestBaseImageAllowFlag(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  string
		want Patterns
	}{
		{"off by default", nil, "", nil},
		{"repeated flag", []string{"-base-image-allow", "localhost:5000/mirror/*", "-base-image-allow", "docker.io/library/busybox:1.36"}, "",
			Patterns{"localhost:5000/mirror/*", "docker.io/library/busybox:1.36"}},
		{"environment, comma-separated", nil, "localhost:5000/mirror/*, registry.example.com/base/*",
			Patterns{"localhost:5000/mirror/*", "registry.example.com/base/*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SLIPWAY_BASE_IMAGE_ALLOW", tt.env)
			c := DefaultConfig()
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			c.BindBuilder(fs)
			if err := ParseFlagSet(fs, tt.args); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.BaseImageAllow, tt.want) {
				t.Errorf("BaseImageAllow = %q, want %q", c.BaseImageAllow, tt.want)
			}
		})
	}
}
