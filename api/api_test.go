package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/actions"
	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/buildlog"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/readmodel"
	"github.com/slipway-dev/slipway/workflows"
)

// projector is the read model's consumer, declared as the wiring declares it.
var projector = natsjs.Consumer{Name: "readmodel", Role: natsjs.RoleDeployer, MaxAckPending: 1,
	Subjects: []string{events.SubjectRoot + ".>"}, Buckets: natsjs.ReadModelBuckets}

var repo = events.Repo{Forge: "github", FullName: "acme/shop", CloneURL: "https://example.com/acme/shop.git", DefaultBranch: "main"}

func sha(i int) string { return fmt.Sprintf("%040x", i+1) }

// fixture is an embedded JetStream with a real history folded into the
// read model, tokens of each role and the API served over HTTP.
type fixture struct {
	js           jetstream.JetStream
	read, deploy string
	srv          *httptest.Server
	tokens       *api.Tokens
	claims       *natsstore.Claims
	model        *readmodel.Model
}

func mustFixture(t *testing.T) *fixture { return mustFixtureWith(t, nil) }

// mustFixtureWith is mustFixture with the actions' claims wrapped by wrap
// (nil: as they are).
func mustFixtureWith(t *testing.T, wrap func(workflows.Claims) workflows.Claims) *fixture {
	t.Helper()
	ctx := context.Background()
	topo := natsjs.DefaultTopology()
	topo.Consumers = append(topo.Consumers, projector, releaseAsked)
	s := natsjs.MustServerWith(t, topo)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	m, err := readmodel.Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	pub := natsjs.NewPublisher(js, "/test")
	var evs []events.Event
	evs = append(evs,
		&events.PushReceived{Repo: repo, Ref: "refs/heads/main", Branch: "main", Before: sha(-1), After: sha(0), Pusher: "ann", ReceivedAt: time.Unix(900, 0).UTC()},
		&events.BuildRequested{Repo: repo, Commit: sha(0), Branch: "main", Service: events.ServiceSpec{Name: "web"}},
		&events.BuildSucceeded{Repo: repo, Commit: sha(0), Branch: "main", Service: "web", Image: "r/acme/shop/web:" + sha(0), Digest: "sha256:aa", Duration: time.Second},
	)
	for i := range 2 {
		req := &events.DeployRequested{Env: "staging", Repo: repo, Commit: sha(i), Trigger: "test", Kind: events.KindAuto, Actor: "slipway",
			Images: []events.Image{{Service: events.ServiceSpec{Name: "web"}, Ref: "r/web:" + sha(i), Digest: "sha256:" + sha(i)}}}
		evs = append(evs, req, req.Result(events.OutcomeSucceeded, "", time.Unix(int64(1000+i), 0).UTC()).Event())
	}
	evs = append(evs,
		&events.CheckRequested{Repo: repo, Commit: sha(0), Branch: "main", Check: events.Check{Name: "unit", Service: "web", Run: "go test"}},
		&events.CheckFinished{Repo: repo, Commit: sha(0), Branch: "main", Check: "unit", Service: "web", Reason: "exit code: 1", Log: []string{"FAIL: TestX"}},
	)
	for _, e := range evs {
		if _, err := pub.Publish(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	logs := &buildlog.Logs{JS: js}
	for _, l := range []struct{ service, line, result string }{{"web", "built web " + sha(0), "succeeded"}, {events.CheckLog("unit"), "FAIL: TestX in the log", "failed"}} {
		w, end := logs.Open(ctx, repo.FullName, sha(0), l.service)
		w.Step("[1/1] RUN x", "started")
		w.Line("[1/1] RUN x", l.line)
		end(l.result)
	}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- natsjs.Fold(fctx, js, projector.Name, zerolog.Nop(), m.Project) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("projector: %v", err)
		}
	})
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if _, err := readmodel.CaughtUp(wctx, js, projector.Name); err != nil {
		t.Fatal(err)
	}
	tokens, err := api.OpenTokens(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{tokens: tokens, model: m}
	if f.read, err = tokens.Create(ctx, "reader", api.RoleRead); err != nil {
		t.Fatal(err)
	}
	if f.deploy, err = tokens.Create(ctx, "ops-ann", api.RoleDeploy); err != nil {
		t.Fatal(err)
	}
	ckv, err := js.KeyValue(ctx, natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	claims := natsstore.NewClaims(ckv, "api-test")
	f.claims = claims
	fresh := readmodel.Fresh{Model: m, Consumer: projector.Name, Wait: 10 * time.Second}
	var bc workflows.Claims = claims
	if wrap != nil {
		bc = wrap(claims)
	}
	s2 := &api.Server{Model: m, Tokens: tokens, Bus: actions.Bus{JS: js, Claims: bc, Source: "/test/api", History: fresh}}
	log := zerolog.Nop()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s2.Handler().ServeHTTP(w, r.WithContext(log.WithContext(r.Context())))
	}))
	t.Cleanup(f.srv.Close)
	f.js = js
	return f
}

// call sends method path with token (none when empty) and body, and
// returns the status and the body.
func (f *fixture) call(t *testing.T, method, path, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestRoutesByRole(t *testing.T) {
	f := mustFixture(t)
	env := "/api/v1/repos/acme/shop/envs/staging"
	tests := []struct {
		name, method, path, body string
		// want are the statuses without a token, with a bad one, with
		// a read token and with a deploy token.
		want [4]int
		// contains is in the deploy token's answer.
		contains string
	}{
		{"whoami", "GET", "/api/v1/whoami", "", [4]int{401, 401, 200, 200}, `"role": "deploy"`},
		{"repos", "GET", "/api/v1/repos", "", [4]int{401, 401, 200, 200}, `"name": "acme/shop"`},
		{"commits", "GET", "/api/v1/repos/acme/shop/commits", "", [4]int{401, 401, 200, 200}, sha(0)},
		{"commit", "GET", "/api/v1/repos/acme/shop/commits/" + sha(0), "", [4]int{401, 401, 200, 200}, `"digest": "sha256:aa"`},
		{"builds", "GET", "/api/v1/repos/acme/shop/commits/" + sha(0) + "/builds", "", [4]int{401, 401, 200, 200}, `"service": "web"`},
		{"commit unknown", "GET", "/api/v1/repos/acme/shop/commits/" + sha(9), "", [4]int{401, 401, 404, 404}, "not in the read model"},
		{"build log", "GET", "/api/v1/repos/acme/shop/commits/" + sha(0) + "/builds/web/log", "", [4]int{401, 401, 200, 200}, "built web " + sha(0)},
		{"build log unknown", "GET", "/api/v1/repos/acme/shop/commits/" + sha(0) + "/builds/api/log", "", [4]int{401, 401, 404, 404}, "no build log"},
		{"checks", "GET", "/api/v1/repos/acme/shop/commits/" + sha(0) + "/checks", "", [4]int{401, 401, 200, 200}, `"status": "failed"`},
		{"check log", "GET", "/api/v1/repos/acme/shop/commits/" + sha(0) + "/checks/unit/log", "", [4]int{401, 401, 200, 200}, "FAIL: TestX in the log"},
		{"check log unknown", "GET", "/api/v1/repos/acme/shop/commits/" + sha(0) + "/checks/lint/log", "", [4]int{401, 401, 404, 404}, "no build log"},
		{"envs", "GET", "/api/v1/envs", "", [4]int{401, 401, 200, 200}, `"env": "staging"`},
		{"envs of repo", "GET", "/api/v1/repos/acme/shop/envs", "", [4]int{401, 401, 200, 200}, `"env": "staging"`},
		{"env", "GET", env, "", [4]int{401, 401, 200, 200}, `"commit": "` + sha(1)},
		{"env unknown", "GET", "/api/v1/repos/acme/shop/envs/nope", "", [4]int{401, 401, 404, 404}, "not in the read model"},
		{"deploys", "GET", env + "/deploys", "", [4]int{401, 401, 200, 200}, sha(0)},
		{"releases", "GET", "/api/v1/repos/acme/shop/envs/production/releases", "", [4]int{401, 401, 200, 200}, "null"},
		{"previews", "GET", "/api/v1/previews", "", [4]int{401, 401, 200, 200}, "[]"},
		{"dead letters", "GET", "/api/v1/deadletters", "", [4]int{401, 401, 200, 200}, "[]"},
		{"replay bad body", "POST", "/api/v1/replay", "{", [4]int{401, 401, 403, 400}, "decode body"},
		{"replay unknown", "POST", "/api/v1/replay", `{"ref":"no.such.event"}`, [4]int{401, 401, 403, 404}, "no.such.event"},
		{"retry bad seq", "POST", "/api/v1/deadletters/x/retry", "", [4]int{401, 401, 403, 400}, "seq"},
		{"rollback bad wait", "POST", env + "/rollback", `{"wait":"forever"}`, [4]int{401, 401, 403, 400}, "wait"},
		{"rollback too far", "POST", env + "/rollback", `{"steps":5}`, [4]int{401, 401, 403, 409}, "earlier commit"},
		{"release without a commit", "POST", env + "/release", "", [4]int{401, 401, 403, 400}, "commit to release is required"},
		{"release of an unknown repository", "POST", "/api/v1/repos/acme/nope/envs/production/release", `{"commit":"` + sha(0) + `"}`, [4]int{401, 401, 403, 404}, "no deploy recorded"},
		{"lock without reason", "POST", env + "/lock", "", [4]int{401, 401, 403, 400}, "reason"},
		{"lock bad for", "POST", env + "/lock", `{"reason":"x","for":"-1h"}`, [4]int{401, 401, 403, 400}, "for"},
		{"unlock not frozen", "POST", "/api/v1/repos/acme/shop/envs/nope/unlock", "", [4]int{401, 401, 403, 200}, "is not frozen"},
		{"unknown route", "GET", "/api/v1/nope", "", [4]int{404, 404, 404, 404}, "no such route"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, tok := range []string{"", "slw_" + strings.Repeat("0", 64), f.read, f.deploy} {
				code, body := f.call(t, tt.method, tt.path, tok, tt.body)
				if code != tt.want[i] {
					t.Errorf("token %d: status %d, want %d: %s", i, code, tt.want[i], body)
				}
				if i == 3 && !strings.Contains(body, tt.contains) {
					t.Errorf("answer %s, want it to contain %q", body, tt.contains)
				}
				if i == 2 && tt.want[2] == 403 && !strings.Contains(body, "needs deploy") {
					t.Errorf("read token refused with %s, want the role named", body)
				}
			}
		})
	}
}

func TestRollbackRecordsTheTokenAsActor(t *testing.T) {
	f := mustFixture(t)
	code, body := f.call(t, "POST", "/api/v1/repos/acme/shop/envs/staging/rollback", f.deploy, `{}`)
	if code != http.StatusAccepted {
		t.Fatalf("status %d: %s", code, body)
	}
	var res api.ActionResult
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if res.Actor != "ops-ann" || res.Commit != sha(0) {
		t.Fatalf("result %+v, want actor ops-ann rolling back to %s", res, sha(0))
	}
	m, err := natsstore.FindEvent(context.Background(), f.js, 0, res.Request)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := m.Decode()
	if err != nil {
		t.Fatal(err)
	}
	req, ok := ev.(*events.DeployRequested)
	if !ok || req.Actor != "ops-ann" || req.Kind != events.KindRollback || req.Commit != sha(0) {
		t.Fatalf("published %T %+v, want a rollback to %s by ops-ann", ev, ev, sha(0))
	}
}

func TestTokens(t *testing.T) {
	f := mustFixture(t)
	ctx := context.Background()
	if _, err := f.tokens.Create(ctx, "reader", api.RoleRead); err == nil {
		t.Fatal("a second token named reader was created")
	}
	for _, name := range []string{"", "a b", "../x", strings.Repeat("n", 65)} {
		if _, err := f.tokens.Create(ctx, name, api.RoleRead); err == nil {
			t.Errorf("token named %q was created", name)
		}
	}
	if _, err := f.tokens.Create(ctx, "x", api.Role("admin")); err == nil {
		t.Error("a token of role admin was created")
	}
	toks, err := f.tokens.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != 2 || toks[0].Name != "ops-ann" || toks[1].Name != "reader" {
		t.Fatalf("tokens %+v, want ops-ann and reader", toks)
	}
	for _, tok := range toks {
		if strings.Contains(tok.Hash, strings.TrimPrefix(f.read, "slw_")) || strings.Contains(tok.Hash, strings.TrimPrefix(f.deploy, "slw_")) {
			t.Fatal("a token is stored in the clear")
		}
	}
	if code, _ := f.call(t, "GET", "/api/v1/repos", f.read, ""); code != 200 {
		t.Fatalf("before revoke: %d", code)
	}
	if err := f.tokens.Revoke(ctx, "reader"); err != nil {
		t.Fatal(err)
	}
	if code, _ := f.call(t, "GET", "/api/v1/repos", f.read, ""); code != 401 {
		t.Fatalf("after revoke: %d, want 401", code)
	}
	if err := f.tokens.Revoke(ctx, "reader"); err == nil {
		t.Fatal("a revoked token was revoked again")
	}
}
