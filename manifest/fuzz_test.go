package manifest_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
)

// FuzzParse checks that Parse never panics, that every error it returns is
// permanent and made of FieldErrors, and that what it accepts it accepts again
// in the same form.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/valid/*.yaml")
	for _, file := range files {
		f.Add(mustRead(f, file))
	}
	for _, seed := range []string{
		"", "version: 1", "&a [*a]", "version: 1\nservices: &s [*s]\n",
		"version: 1\nservices:\n  - {name: a, context: ., port: 1, env: {A: &x 1, B: *x}}\n",
		"version: 1\nservices:\n  - <<: {name: a}\n", "!!binary aGVsbG8=", "version: !!float 1",
	} {
		f.Add([]byte(seed))
	}
	if b, err := os.ReadFile("../../shared/slipway.yaml"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := manifest.Parse(data)
		if err != nil {
			var fe *manifest.FieldError
			if !events.IsPermanent(err) || !errors.As(err, &fe) {
				t.Fatalf("error is not a permanent FieldError: %v", err)
			}
			return
		}
		if len(m.Services()) == 0 || m.Version != manifest.Version {
			t.Fatalf("accepted an incomplete manifest: %+v", m)
		}
		for _, s := range m.Services() {
			if s.Name == "" || s.Context == "" || s.Dockerfile == "" || s.Port < 1 || s.Port > 65535 || s.HealthPath == "" {
				t.Fatalf("accepted an invalid service: %+v", s)
			}
		}
	})
}
