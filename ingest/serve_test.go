package ingest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
)

// response is the union of the JSON answers.
type response struct {
	Status    string `json:"status"`
	ID        string `json:"id"`
	Duplicate bool   `json:"duplicate"`
	Reason    string `json:"reason"`
	Error     string `json:"error"`
}

func TestServeHTTP(t *testing.T) {
	push := MustReadFixture(t, "push-main-1commit.json")
	giteaPush := MustReadFixture(t, "gitea-push-1commit.json")
	const pushKey = "push.woodpecker-ci_2fwoodpecker.refs_2fheads_2fmain.366701fde727cb7a9e7f21eb88264f59f6f9b89c.2f780193b136b72bfea4eeb640786a8c4450c7a2"
	const giteaKey = "push.gordon_2fhello-world.refs_2fheads_2fmain.ef98532add3b2feb7a137426bba1248724367df5.4b2626259b5a97b6b4eab5e6cca66adb986b672b"
	badPush := []byte(`{"ref":"refs/heads/main","after":"not-a-sha","repository":{"full_name":"other/repo","clone_url":"https://github.com/other/repo.git"}}`)
	unknownRepo := bytes.Replace(push, []byte(`"full_name": "woodpecker-ci/woodpecker"`), []byte(`"full_name": "stranger/repo"`), 1)
	allowUnknown := testConfig()
	allowUnknown.AllowUnknownRepos, allowUnknown.FallbackSecrets = true, [][]byte{secretFallback}
	chunked := githubDelivery("push", bytes.Repeat([]byte(" "), 70<<10), secretOld)
	chunked.chunked = true

	tests := []struct {
		name        string
		cfg         *Config // testConfig() when nil
		pubErr      error
		duplicate   bool
		req         delivery
		wantStatus  int
		want        response
		wantPublish int
	}{
		{name: "health", req: delivery{method: "GET", path: "/healthz"}, wantStatus: 200, want: response{Status: "ok"}},
		{name: "health wrong method", req: delivery{path: "/healthz"}, wantStatus: 405, want: response{Status: "error", Error: "method not allowed"}},
		{name: "GET webhook", req: delivery{method: "GET", path: "/webhooks/github"}, wantStatus: 405, want: response{Status: "error", Error: "method not allowed"}},
		{name: "unknown forge", req: delivery{path: "/webhooks/subversion", body: push}, wantStatus: 404, want: response{Status: "error", Error: "unknown forge"}},
		{name: "too large", req: githubDelivery("push", bytes.Repeat([]byte(" "), 70<<10), secretOld), wantStatus: 413, want: response{Status: "error", Error: "body too large"}},
		{name: "too large without length", req: chunked, wantStatus: 413, want: response{Status: "error", Error: "body too large"}},
		{name: "not json", req: githubDelivery("push", []byte("<xml/>"), secretOld), wantStatus: 400, want: response{Status: "error", Error: "malformed payload"}},
		{name: "empty body", req: githubDelivery("push", nil, nil), wantStatus: 400, want: response{Status: "error", Error: "malformed payload"}},
		{name: "unknown repo", req: githubDelivery("push", unknownRepo, secretOld), wantStatus: 403, want: response{Status: "error", Error: "repository not configured"}},
		{name: "unsigned", req: githubDelivery("push", push, nil), wantStatus: 401, want: response{Status: "error", Error: "signature missing or invalid"}},
		{name: "wrong secret", req: githubDelivery("push", push, []byte("guess")), wantStatus: 401, want: response{Status: "error", Error: "signature missing or invalid"}},
		{name: "secret of another repo", req: githubDelivery("push", push, secretOther), wantStatus: 401, want: response{Status: "error", Error: "signature missing or invalid"}},
		{name: "fallback secret for known repo", cfg: &allowUnknown, req: githubDelivery("push", push, secretFallback), wantStatus: 401, want: response{Status: "error", Error: "signature missing or invalid"}},
		{name: "malformed after verify", req: githubDelivery("push", badPush, secretOther), wantStatus: 400, want: response{Status: "error", Error: "malformed payload"}},
		{name: "no event header", req: githubDelivery("", push, secretOld), wantStatus: 400, want: response{Status: "error", Error: "malformed payload"}},
		{name: "ping", req: githubDelivery("ping", MustReadFixture(t, "ping.json"), nil), cfg: &Config{Secrets: map[string][][]byte{"ailisp/gcbapp-buildconfig-example": {secretNew}}}, wantStatus: 401, want: response{Status: "error", Error: "signature missing or invalid"}},
		{name: "signed ping", req: githubDelivery("ping", MustReadFixture(t, "ping.json"), secretNew), cfg: &Config{Secrets: map[string][][]byte{"ailisp/gcbapp-buildconfig-example": {secretNew}}}, wantStatus: 200, want: response{Status: "ignored", Reason: forge.ReasonPing}},
		{name: "tag", req: githubDelivery("push", MustReadFixture(t, "push-tag-created.json"), secretFallback), cfg: &allowUnknown, wantStatus: 202, want: response{Status: "accepted", ID: "tag.bradrydzewski_2fdrone-test-go.refs_2ftags_2fv0_2e0_2e1.d2b75aa7797ec26b088fa2dd527e9d2c052fcedd"}, wantPublish: 1},
		{name: "pull request", req: githubDelivery("pull_request", MustReadFixture(t, "pull_request-opened.json"), secretFallback), cfg: &allowUnknown, wantStatus: 202, want: response{Status: "accepted", ID: "pr.ailisp_2fgcbapp-buildconfig-example.3.opened.7b5a809ab03679215c55926f7d111156ec98b865"}, wantPublish: 1},
		{name: "pull request labelled", req: githubDelivery("pull_request", bytes.Replace(MustReadFixture(t, "pull_request-opened.json"), []byte(`"action": "opened"`), []byte(`"action": "labeled"`), 1), secretFallback), cfg: &allowUnknown, wantStatus: 202, want: response{Status: "ignored", Reason: `pull request action "labeled" is not handled`}},
		{name: "push", req: githubDelivery("push", push, secretOld), wantStatus: 202, want: response{Status: "accepted", ID: pushKey}, wantPublish: 1},
		{name: "push, rotated secret", req: githubDelivery("push", push, secretNew), wantStatus: 202, want: response{Status: "accepted", ID: pushKey}, wantPublish: 1},
		{name: "push, duplicate", duplicate: true, req: githubDelivery("push", push, secretOld), wantStatus: 202, want: response{Status: "accepted", ID: pushKey, Duplicate: true}, wantPublish: 1},
		{name: "push, unknown repo allowed", cfg: &allowUnknown, req: githubDelivery("push", unknownRepo, secretFallback), wantStatus: 202, want: response{Status: "accepted", ID: "push.stranger_2frepo.refs_2fheads_2fmain.366701fde727cb7a9e7f21eb88264f59f6f9b89c.2f780193b136b72bfea4eeb640786a8c4450c7a2"}, wantPublish: 1},
		{name: "publish fails", pubErr: errors.New("nats: no responders"), req: githubDelivery("push", push, secretOld), wantStatus: 503, want: response{Status: "error", Error: "event not stored, retry later"}},
		{name: "gitea push", req: giteaDelivery("/webhooks/gitea", "X-Gitea", "push", giteaPush, secretNew), wantStatus: 202, want: response{Status: "accepted", ID: giteaKey}, wantPublish: 1},
		{name: "forgejo push", req: giteaDelivery("/webhooks/forgejo", "X-Forgejo", "push", giteaPush, secretNew), wantStatus: 202, want: response{Status: "accepted", ID: giteaKey}, wantPublish: 1},
		{name: "gogs push", req: giteaDelivery("/webhooks/gogs", "X-Gogs", "push", giteaPush, secretNew), wantStatus: 202, want: response{Status: "accepted", ID: giteaKey}, wantPublish: 1},
		{name: "gitea push, wrong secret", req: giteaDelivery("/webhooks/gitea", "X-Gitea", "push", giteaPush, secretOld), wantStatus: 401, want: response{Status: "error", Error: "signature missing or invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.cfg != nil {
				cfg = *tt.cfg
				cfg.MaxBodyBytes = 64 << 10
			}
			pub := &stubPublisher{err: tt.pubErr, duplicate: tt.duplicate}
			var logs bytes.Buffer
			rec := httptest.NewRecorder()
			MustNewHandler(t, cfg, pub).ServeHTTP(rec, tt.req.request(zerolog.New(&logs)))

			if rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			var got response
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("decode answer %q: %v", rec.Body, err)
			}
			if got != tt.want {
				t.Errorf("answer %+v, want %+v", got, tt.want)
			}
			if n := len(pub.published()); n != tt.wantPublish {
				t.Errorf("%d events published, want %d", n, tt.wantPublish)
			}
			mustNotLogSecrets(t, logs.String())
		})
	}
}

func mustNotLogSecrets(tb testing.TB, logs string) {
	tb.Helper()
	for _, s := range [][]byte{secretOld, secretNew, secretFallback, secretOther} {
		if strings.Contains(logs, string(s)) {
			tb.Errorf("log holds a secret: %s", logs)
		}
	}
}

// TestServeHTTPPublishedEvent checks the event handed to the publisher: the
// forge's normalisation plus the time it was received.
func TestServeHTTPPublishedEvent(t *testing.T) {
	pub := &stubPublisher{}
	rec := httptest.NewRecorder()
	req := githubDelivery("push", MustReadFixture(t, "push-main-1commit.json"), secretOld)
	MustNewHandler(t, testConfig(), pub).ServeHTTP(rec, req.request(zerolog.Nop()))
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	got := pub.published()[0].(*events.PushReceived)
	want := events.PushReceived{
		Repo: events.Repo{
			Forge:         "github",
			FullName:      "woodpecker-ci/woodpecker",
			CloneURL:      "https://github.com/woodpecker-ci/woodpecker.git",
			DefaultBranch: "main",
		},
		Ref:        "refs/heads/main",
		Branch:     "main",
		Before:     "2f780193b136b72bfea4eeb640786a8c4450c7a2",
		After:      "366701fde727cb7a9e7f21eb88264f59f6f9b89c",
		Pusher:     "6543",
		Message:    "Fix multiline secrets replacer (#700)\n\n* Fix multiline secrets replacer\r\n\r\n* Add tests",
		DeliveryID: "gh-delivery-1",
		ReceivedAt: receivedAt,
		Commits: []events.Commit{{
			ID:      "366701fde727cb7a9e7f21eb88264f59f6f9b89c",
			Message: "Fix multiline secrets replacer (#700)\n\n* Fix multiline secrets replacer\r\n\r\n* Add tests",
			Author:  "nupplaphil",
		}},
		CommitCount: 1,
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("published %+v\nwant %+v", *got, want)
	}
}

// TestServeHTTPLogs checks that a refused delivery leaves one structured log
// line naming the repository. The delivery is signed with a configured
// secret: one whose signature matches none is refused before its body is
// read, so its repository is unknown.
func TestServeHTTPLogs(t *testing.T) {
	push := MustReadFixture(t, "push-main-1commit.json")
	cfg := Config{Secrets: map[string][][]byte{"someone/else": {secretOther}}}
	var logs bytes.Buffer
	rec := httptest.NewRecorder()
	req := githubDelivery("push", push, secretOther)
	MustNewHandler(t, cfg, &stubPublisher{}).ServeHTTP(rec, req.request(zerolog.New(&logs)))

	var line struct {
		Level, Forge, Repo, Message string
		Status                      int
	}
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	want := struct {
		Level, Forge, Repo, Message string
		Status                      int
	}{"warn", "github", "woodpecker-ci/woodpecker", "webhook refused: repository not configured", 403}
	if line != want {
		t.Errorf("log line %+v, want %+v", line, want)
	}
}

// TestServeHTTPPingWithoutRepository checks that a ping naming no
// repository (Bitbucket Server's "Test connection", a GitHub organisation
// hook) is verified with any configured secret, and that any other delivery
// naming none is still refused.
func TestServeHTTPPingWithoutRepository(t *testing.T) {
	bbPing := func(secret []byte) delivery {
		body := []byte(`{"test":true}`)
		return delivery{path: "/webhooks/bitbucketserver", body: body, header: map[string]string{
			"Content-Type":    "application/json",
			"X-Event-Key":     "diagnostics:ping",
			"X-Request-Id":    "ping-1",
			"X-Hub-Signature": "sha256=" + hex.EncodeToString(forge.SignHMACSHA256(body, secret)),
		}}
	}
	orgPing := []byte(`{"zen":"Design for failure.","hook_id":1,"organization":{"login":"acme"}}`)
	tests := []struct {
		name       string
		req        delivery
		wantStatus int
	}{
		{"bitbucket server ping, a repository's secret", bbPing(secretOther), 200},
		{"bitbucket server ping, unknown secret", bbPing([]byte("guess")), 401},
		{"github organisation ping", githubDelivery("ping", orgPing, secretNew), 200},
		{"github organisation ping, unsigned", githubDelivery("ping", orgPing, nil), 401},
		{"github organisation event", githubDelivery("organization", orgPing, secretNew), 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &stubPublisher{}
			rec := httptest.NewRecorder()
			MustNewHandler(t, testConfig(), pub).ServeHTTP(rec, tt.req.request(zerolog.Nop()))
			if rec.Code != tt.wantStatus || len(pub.published()) != 0 {
				t.Errorf("status %d, %d published; want %d, none", rec.Code, len(pub.published()), tt.wantStatus)
			}
		})
	}
}

// TestServeHTTPClipsLoggedValues checks that a value read from an unverified
// body is not copied whole into the log.
func TestServeHTTPClipsLoggedValues(t *testing.T) {
	huge := strings.Repeat("x", 10<<10)
	body := []byte(`{"ref":"refs/heads/main","repository":{"full_name":"` + huge + `/r"}}`)
	var logs bytes.Buffer
	rec := httptest.NewRecorder()
	MustNewHandler(t, testConfig(), &stubPublisher{}).ServeHTTP(rec, githubDelivery("push", body, secretOld).request(zerolog.New(&logs)))
	if rec.Code != http.StatusForbidden || logs.Len() > 2<<10 {
		t.Errorf("status %d, log of %d bytes", rec.Code, logs.Len())
	}
}
