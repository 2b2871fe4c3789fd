package targettest

import (
	"slices"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// testUnchangedKept: a commit that changes one of two services replaces
// only that one. The other keeps serving from the replicas it ran in (the
// same instances, by the ID the target names them with, at the same
// addresses, still answering the commit they were started at), and the
// environment reads back as the new commit. When the changed service
// fails its health gate, the previous commit keeps serving everywhere.
func testUnchangedKept(t *testing.T, s *suite) {
	v1, v2, v3 := RandomCommit(), RandomCommit(), RandomCommit()
	web := image("web", s.cfg.Images.Serve, 0)
	api := func(v string) events.Image {
		img := image("api", s.cfg.Images.Serve, 0)
		img.Service.Env = map[string]string{"RELEASE": v}
		return img
	}
	s.mustDeploy(t, s.release(v1, web, api(v1)))
	before := s.mustRunRelease(t, v1, map[string]int{"web": 1, "api": 1})
	webAt := s.mustServe(t, s.repo, "web", v1)
	apiAt := s.mustServe(t, s.repo, "api", v1)

	s.mustDeploy(t, s.release(v2, web, api(v2)))
	after := s.mustRunRelease(t, v2, map[string]int{"web": 1, "api": 1})
	if got, was := instanceIDs(t, after, "web"), instanceIDs(t, before, "web"); !slices.Equal(got, was) {
		t.Errorf("unchanged web runs in %v, ran in %v: want its replicas kept", got, was)
	}
	if got, was := instanceIDs(t, after, "api"), instanceIDs(t, before, "api"); slices.Equal(got, was) {
		t.Errorf("changed api still runs in %v, want new replicas", got)
	}
	if got := s.mustServe(t, s.repo, "web", v1); !slices.Equal(got, webAt) {
		t.Errorf("unchanged web moved from %v to %v, want its replicas kept", webAt, got)
	}
	if got := s.mustServe(t, s.repo, "api", v2); slices.Equal(got, apiAt) {
		t.Errorf("changed api still at %v, want new replicas", got)
	}

	err := s.deploy(s.release(v3, web, image("api", s.cfg.Images.NoHealth, 0)))
	_ = mustUnhealthy(t, err, "api", "/healthz")
	failed := s.mustRunRelease(t, v2, map[string]int{"web": 1, "api": 1})
	for _, svc := range []string{"web", "api"} {
		if got, was := instanceIDs(t, failed, svc), instanceIDs(t, after, svc); !slices.Equal(got, was) {
			t.Errorf("%s runs in %v after a failed deploy, ran in %v: want them untouched", svc, got, was)
		}
	}
	if got := s.mustServe(t, s.repo, "web", v1); !slices.Equal(got, webAt) {
		t.Errorf("web moved from %v to %v by a failed deploy", webAt, got)
	}
	s.mustServe(t, s.repo, "api", v2)
}

// instanceIDs returns the IDs of the instances of service in rel, in
// replica order; every instance must have one.
func instanceIDs(t *testing.T, rel deploy.Release, service string) []string {
	t.Helper()
	var ids []string
	for _, svc := range rel.Services {
		if svc.Name != service {
			continue
		}
		for _, in := range svc.Instances {
			if in.ID == "" {
				t.Fatalf("service %s, replica %d: instance %+v has no ID", service, in.Replica, in)
			}
			ids = append(ids, in.ID)
		}
	}
	return ids
}
