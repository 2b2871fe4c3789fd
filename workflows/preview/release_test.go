package preview_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/preview"
	"github.com/slipway-dev/slipway/workflows/release"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

// changes answers ChangedPaths from a map.
type changes map[string][]string

func (c changes) ChangedPaths(_ context.Context, _ events.Repo, sha string) ([]string, error) {
	return c[sha], nil
}

const pinned = `version: 1
services:
  - {name: web, context: web, port: 8080}
environments:
  staging: {}
  production: {pin: deploy/production.yaml}
  pr:
    previews: true%s
`

// TestReleasePullRequestGetsNoPreview: a pull request whose head changes
// only pin files (what `slipway release` opens) gets no preview and
// requests no build, unless release_previews: true; a pull request
// changing anything else gets one.
func TestReleasePullRequestGetsNoPreview(t *testing.T) {
	const relSHA, featSHA, askSHA = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222", "3333333333333333333333333333333333333333"
	src := workflowstest.Files{
		relSHA:  {"slipway.yaml": fmt.Sprintf(pinned, "")},
		featSHA: {"slipway.yaml": fmt.Sprintf(pinned, "")},
		askSHA:  {"slipway.yaml": fmt.Sprintf(pinned, "\n    release_previews: true")},
	}
	diffs := changes{relSHA: {"deploy/production.yaml"}, featSHA: {"deploy/production.yaml", "web/index.html"}, askSHA: {"deploy/production.yaml"}}
	for _, tt := range []struct {
		name, sha string
		preview   bool
	}{
		{"release", relSHA, false},
		{"feature", featSHA, true},
		{"release asking for a preview", askSHA, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pub := &workflowstest.Recorder{}
			planner := &build.Planner{Source: src, Publisher: pub}
			h := &preview.Handler{Planner: planner, Deploys: &release.Handler{Planner: planner, Claims: workflowstest.Results{}},
				Publisher: pub, Store: &store{m: map[string]preview.Preview{}}, Target: &target{running: map[string]bool{}},
				Envs: envRecords{}, Changes: diffs}
			err := h.HandlePullRequest(context.Background(), pr(events.PROpened, 7, tt.sha))
			var ign *events.IgnoredError
			evs := kinds(pub.Take())
			if tt.preview && (err != nil || len(evs) != 1 || evs[0] != "build:"+tt.sha[:1]) {
				t.Errorf("preview: %v, events %v; want the head's build requested", err, evs)
			}
			if !tt.preview && (!errors.As(err, &ign) || len(evs) != 0) {
				t.Errorf("release: %v, events %v; want ignored, nothing requested", err, evs)
			}
		})
	}
}
