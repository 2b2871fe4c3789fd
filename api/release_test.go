package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/readmodel"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/release"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

// releaseAsked is the release workflow's consumer of release requests,
// declared as the wiring declares it.
var releaseAsked = natsjs.Consumer{Name: "release-request", Role: natsjs.RoleDeployer, DeliverNew: true, MaxAckPending: 1,
	Subjects: []string{events.SubjectReleaseRequested + ".>"}}

// Commits of the release tests, besides the fixture's sha(i).
const (
	releasable = "abcdef1234567890abcdef1234567890abcdef12" // built, healthy on staging
	unstaged   = "abcdef1999999999999999999999999999999999" // built, never deployed to staging
	unbuilt    = "0badc0de0badc0de0badc0de0badc0de0badc0de" // pushed, never built
)

const releaseManifest = `version: 1
services:
  - {name: web, context: ., port: 8080}
environments:
  staging: {}
  production: {pin: deploy/production.yaml}
`

// mustComplete records v as the result of the step key, as the workflow
// owning it completes its claim.
func (f *fixture) mustComplete(t *testing.T, key string, v any) {
	t.Helper()
	ctx := context.Background()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	lease, err := f.claims.Claim(ctx, key, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := lease.Complete(ctx, b); err != nil {
		t.Fatal(err)
	}
}

// count returns how many events the stream holds on subject.
func (f *fixture) count(t *testing.T, subject string) uint64 {
	t.Helper()
	ctx := context.Background()
	st, err := f.js.Stream(ctx, natsjs.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, c := range info.State.Subjects {
		n += c
	}
	return n
}

// mustReleaseWorkflow records the builds, checks and staging deploys of
// the release tests and runs the release workflow on the requests.
func (f *fixture) mustReleaseWorkflow(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	pub := natsjs.NewPublisher(f.js, "/test")
	built := func(sha string) {
		f.mustComplete(t, events.BuildKey(repo.FullName, sha, "web"), map[string]any{"service": events.ServiceSpec{Name: "web"}, "image": "r/acme/shop/web:" + sha, "digest": "sha256:web-" + sha[:4]})
	}
	built(sha(0))
	built(releasable)
	built(unstaged)
	f.mustComplete(t, events.CheckKey(repo.FullName, sha(0), "unit"),
		&events.CheckFinished{Repo: repo, Commit: sha(0), Check: "unit", Service: "web", Reason: "exit code: 1"})
	staged := &events.DeployRequested{Env: "staging", Repo: repo, Commit: releasable, Trigger: "test", Kind: events.KindAuto, Actor: "slipway",
		Images: []events.Image{{Service: events.ServiceSpec{Name: "web"}, Ref: "r/web:" + releasable, Digest: "sha256:web-abcd"}}}
	for _, e := range []events.Event{
		&events.PushReceived{Repo: repo, Ref: "refs/heads/main", Branch: "main", Before: sha(1), After: releasable, Pusher: "ann", ReceivedAt: time.Unix(2000, 0).UTC()},
		&events.PushReceived{Repo: repo, Ref: "refs/heads/main", Branch: "main", Before: releasable, After: unstaged, Pusher: "ann", ReceivedAt: time.Unix(2001, 0).UTC()},
		&events.PushReceived{Repo: repo, Ref: "refs/heads/main", Branch: "main", Before: unstaged, After: unbuilt, Pusher: "ann", ReceivedAt: time.Unix(2001, 0).UTC()},
		staged, staged.Result(events.OutcomeSucceeded, sha(1), time.Unix(2002, 0).UTC()).Event(),
	} {
		if _, err := pub.Publish(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := readmodel.CaughtUp(wctx, f.js, projector.Name); err != nil {
		t.Fatal(err)
	}
	files := workflowstest.Files{}
	for _, sha := range []string{unbuilt, releasable, unstaged} {
		files[sha] = map[string]string{"slipway.yaml": releaseManifest}
	}
	files[sha(0)] = map[string]string{"slipway.yaml": releaseManifest + "checks:\n  - {name: unit, service: web, run: go test ./...}\n"}
	h := &release.Handler{Config: release.Config{StagingEnv: "staging"}, Source: files, Planner: &build.Planner{Source: files, Publisher: pub},
		Claims: f.claims, Publisher: pub, History: readmodel.Fresh{Model: f.model, Consumer: projector.Name, Wait: 10 * time.Second}}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- natsjs.Fold(rctx, f.js, releaseAsked.Name, zerolog.New(zerolog.NewTestWriter(t)), natsjs.Typed(h.HandleRequested))
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("release workflow: %v", err)
		}
	})
}

// TestReleaseByAPI releases commits through the API against the release
// workflow on an embedded JetStream: a deploy token's release of a commit
// that passes the gates becomes a deploy request of kind release by the
// token's name; a read token, a missing, malformed, unknown or ambiguous
// commit are refused before anything is published; a commit failing a
// gate is refused with its reason and nothing is deployed.
func TestReleaseByAPI(t *testing.T) {
	f := mustFixture(t)
	f.mustReleaseWorkflow(t)
	path := "/api/v1/repos/acme/shop/envs/production/release"
	production := events.EnvSubject(events.SubjectDeployRequested, repo.FullName, "production")
	asked := events.SubjectReleaseRequested + ".>"
	tests := []struct {
		name     string
		path     string
		token    string
		body     string
		wantCode int
		wantIn   string
	}{
		{"a read token", path, f.read, `{"commit":"` + releasable + `"}`, http.StatusForbidden, "has role read"},
		{"no commit", path, f.deploy, `{"reason":"ship"}`, http.StatusBadRequest, "commit to release is required"},
		{"a malformed commit", path, f.deploy, `{"commit":"main"}`, http.StatusBadRequest, "hex digits"},
		{"an unknown commit", path, f.deploy, `{"commit":"` + sha(9) + `"}`, http.StatusBadRequest, "not a commit of acme/shop"},
		{"an ambiguous prefix", path, f.deploy, `{"commit":"abcdef1"}`, http.StatusBadRequest, "ambiguous"},
		{"an unknown prefix", path, f.deploy, `{"commit":"1234567"}`, http.StatusBadRequest, "no commit of acme/shop"},
		{"a failed check", path, f.deploy, `{"commit":"` + sha(0) + `"}`, http.StatusConflict, "unit"},
		{"never built", path, f.deploy, `{"commit":"` + unbuilt + `"}`, http.StatusConflict, "never built"},
		{"never ran on staging", path, f.deploy, `{"commit":"abcdef19"}`, http.StatusConflict, "never ran on staging"},
		{"an environment following a branch", "/api/v1/repos/acme/shop/envs/staging/release", f.deploy, `{"commit":"` + releasable + `"}`,
			http.StatusConflict, `following a pin file`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asks, deploys := f.count(t, asked), f.count(t, production)
			code, body := f.call(t, "POST", tt.path, tt.token, tt.body)
			if code != tt.wantCode || !strings.Contains(body, tt.wantIn) {
				t.Fatalf("%d %s, want %d saying %q", code, body, tt.wantCode, tt.wantIn)
			}
			var wantAsks uint64 // a request refused by a gate was asked for
			if code == http.StatusConflict {
				wantAsks = 1
			}
			if n := f.count(t, asked) - asks; n != wantAsks {
				t.Errorf("%d release requests published, want %d", n, wantAsks)
			}
			if n := f.count(t, production) - deploys; n != 0 {
				t.Errorf("%d deploys of production requested, want none", n)
			}
		})
	}
	deploys := f.count(t, production)
	code, body := f.call(t, "POST", path, f.deploy, `{"commit":"abcdef12","reason":"ship the cart"}`)
	if code != http.StatusAccepted {
		t.Fatalf("release: %d %s, want 202", code, body)
	}
	var res api.ActionResult
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if res.Actor != "ops-ann" || res.Commit != releasable || !strings.HasPrefix(res.Request, "release.") || res.Deploy == "" {
		t.Fatalf("release answered %+v, want the request of %s by ops-ann and its deploy", res, releasable)
	}
	if n := f.count(t, production) - deploys; n != 1 {
		t.Fatalf("%d deploys of production requested, want 1", n)
	}
	ev := f.event(t, res.Deploy)
	req, ok := ev.(*events.DeployRequested)
	if !ok || req.Kind != events.KindRelease || req.Actor != "ops-ann" || req.Trigger != res.Request || req.Commit != releasable ||
		req.Env != "production" || len(req.Images) != 1 || req.Images[0].Digest != "sha256:web-abcd" {
		t.Fatalf("deploy request %+v, want a release of %s to production by ops-ann triggered by %s", ev, releasable, res.Request)
	}
	ev = f.event(t, res.Request)
	if ask, ok := ev.(*events.ReleaseRequested); !ok || ask.Actor != "ops-ann" || ask.Reason != "ship the cart" || ask.Commit != releasable {
		t.Fatalf("release request %+v, want ops-ann's with its reason", ev)
	}
}

// event returns the stored event of id, decoded.
func (f *fixture) event(t *testing.T, id string) events.Event {
	t.Helper()
	m, err := natsstore.FindEvent(context.Background(), f.js, 0, id)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := m.Decode()
	if err != nil {
		t.Fatal(err)
	}
	return ev
}
