package preview_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/release"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

const withProduction = `version: 1
services:
  - {name: web, context: web, port: 8080}
environments:
  staging: {}
  production: {pin: deploy/production.yaml}
  preview: {previews: true}
`

// TestReleaseBranchGetsNoPreview: a pull request from the branch
// `slipway release` makes gets no preview (nothing built, nothing
// deployed) unless ReleasePreviews asks for it; another branch named
// release/… does.
func TestReleaseBranchGetsNoPreview(t *testing.T) {
	tests := []struct {
		branch string
		asked  bool
		want   string
	}{
		{"release/production-" + h1[:12], false, "ignored"},
		{"release/production-" + h1[:12], true, "[build:1]"},
		{"release/staging-" + h1[:12], false, "[build:1]"}, // staging follows no pin
		{"release/2026-11", false, "[build:1]"},
		{"feature", false, "[build:1]"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s asked %v", tt.branch, tt.asked), func(t *testing.T) {
			f := newFixture()
			planner := &build.Planner{Source: workflowstest.Files{h1: {"slipway.yaml": withProduction}}, Publisher: f.pub}
			f.h.Planner, f.h.Deploys = planner, &release.Handler{Planner: planner, Claims: f.claims}
			f.h.Config.ReleasePreviews = tt.asked
			e := pr(events.PROpened, 7, h1)
			e.HeadBranch = tt.branch
			err := f.h.HandlePullRequest(context.Background(), e)
			got := fmt.Sprint(kinds(f.pub.Take()))
			var ign *events.IgnoredError
			if errors.As(err, &ign) {
				got = "ignored"
				if len(f.pub.Take()) != 0 {
					t.Error("ignored, but events were published")
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("pull request from %s: %s (%v), want %s", tt.branch, got, err, tt.want)
			}
		})
	}
}
