package buildkit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/buildkit"
	"github.com/slipway-dev/slipway/buildkit/buildkittest"
	"github.com/slipway-dev/slipway/events"
)

// TestBaseImageAllowlist: with an allowlist, a build FROM an allowed image is
// pushed, and one FROM any other image fails permanently, naming the image,
// before anything is fetched: the denied image is on a loopback port nothing
// listens on, so a fetch would fail as "connection refused" instead.
func TestBaseImageAllowlist(t *testing.T) {
	e := mustEnv(t)
	addr := buildkittest.MustBuildkit(t)
	b, err := buildkit.New(context.Background(), addr, buildkit.AllowBaseImages(e.registry+"/mirror/*"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	denied := closedAddr(t) + "/elsewhere/busybox:stable"
	tests := []struct {
		name    string
		from    string
		wantErr string // empty: the build succeeds
	}{
		{"allowed image builds", e.base, ""},
		{"other registry denied", denied, `"docker-image://` + denied + `" denied by policy`},
		{"other path of the same registry denied", e.registry + "/slipway-test/busybox:stable", `"docker-image://` + e.registry + `/slipway-test/busybox:stable" denied by policy`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := writeContext(t, map[string]string{"Dockerfile": "FROM " + tt.from + "\nRUN echo " + t.Name() + " > /x\n"})
			req.Image = e.registry + "/" + buildkittest.UniqueRepo(t) + ":v1"
			_, err := b.Build(testContext(t), req)
			t.Logf("error: %v", err)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				return
			}
			if !events.IsPermanent(err) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want permanent, with %s", err, tt.wantErr)
			}
			mustNotBePushed(t, e.registry, req.Image)
		})
	}
}

func TestAllowBaseImagesRejectsPatternsThatNeverMatch(t *testing.T) {
	tests := []struct {
		pattern string
		wantErr bool
	}{
		{"localhost:5000/mirror/*", false},
		{"docker.io/library/busybox:1.36", false},
		{"registry.example.com/*", false},
		{"busybox*", true},
		{"busybox", true},
		{"docker.io/library/busybox", true}, // BuildKit names it with :latest
		{"localhost:5000/**", true},
		{"", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			_, err := buildkit.New(context.Background(), "unix:///nonexistent.sock", buildkit.AllowBaseImages(tt.pattern))
			if (err != nil) != tt.wantErr {
				t.Errorf("AllowBaseImages(%q) error = %v, want error %v", tt.pattern, err, tt.wantErr)
			}
		})
	}
}
