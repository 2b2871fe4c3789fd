package targettest

import (
	"slices"
	"testing"

	"github.com/slipway-dev/slipway/events"
)

// testUnchangedKept: a commit that changes one of two services replaces
// only that one. The other keeps serving from the replicas it ran in (the
// same addresses, still answering the commit they were started at), and
// the environment reads back as the new commit. When the changed service
// fails its health gate, the previous commit keeps serving everywhere.
func testUnchangedKept(t *testing.T, s *suite) {
	if s.cfg.RestartsUnchanged {
		t.Skip("the target restarts every service of a deploy (Config.RestartsUnchanged)")
	}
	v1, v2, v3 := RandomCommit(), RandomCommit(), RandomCommit()
	web := image("web", s.cfg.Images.Serve, 0)
	api := func(v string) events.Image {
		img := image("api", s.cfg.Images.Serve, 0)
		img.Service.Env = map[string]string{"RELEASE": v}
		return img
	}
	s.mustDeploy(t, s.release(v1, web, api(v1)))
	webAt := s.mustServe(t, s.repo, "web", v1)
	apiAt := s.mustServe(t, s.repo, "api", v1)

	s.mustDeploy(t, s.release(v2, web, api(v2)))
	s.mustRunRelease(t, v2, map[string]int{"web": 1, "api": 1})
	if got := s.mustServe(t, s.repo, "web", v1); !slices.Equal(got, webAt) {
		t.Errorf("unchanged web moved from %v to %v, want its replicas kept", webAt, got)
	}
	if got := s.mustServe(t, s.repo, "api", v2); slices.Equal(got, apiAt) {
		t.Errorf("changed api still at %v, want new replicas", got)
	}

	err := s.deploy(s.release(v3, web, image("api", s.cfg.Images.NoHealth, 0)))
	_ = mustUnhealthy(t, err, "api", "/healthz")
	s.mustRunRelease(t, v2, map[string]int{"web": 1, "api": 1})
	if got := s.mustServe(t, s.repo, "web", v1); !slices.Equal(got, webAt) {
		t.Errorf("web moved from %v to %v by a failed deploy", webAt, got)
	}
	s.mustServe(t, s.repo, "api", v2)
}
