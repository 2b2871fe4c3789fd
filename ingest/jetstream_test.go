package ingest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/forge"
	"github.com/slipway-dev/slipway/ingest/natsstream"
	"github.com/slipway-dev/slipway/natsstore"
)

// stack is the real receiver over HTTP, publishing to an embedded JetStream
// server and recording deliveries on their events in the stream.
type stack struct {
	url string
	js  jetstream.JetStream
	srv natsServer
}

// natsServer is the embedded NATS server of a test.
type natsServer interface {
	ClientURL() string
	Shutdown()
}

// mustStack starts an embedded JetStream server and a receiver on it.
func mustStack(tb testing.TB, cfg Config) *stack {
	tb.Helper()
	return mustReceiver(tb, natsjs.MustServer(tb), cfg)
}

// mustReceiver starts a receiver on srv with a connection and a delivery
// store of its own, as each ingest process has.
func mustReceiver(tb testing.TB, srv natsServer, cfg Config) *stack {
	tb.Helper()
	ctx := context.Background()
	_, js := natsjs.MustJetStream(tb, srv.ClientURL())
	pub := natsjs.NewPublisher(js, "/slipway/ingest")
	deliveries, err := natsstream.NewDeliveries(ctx, js, pub)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(deliveries.Close)
	h := MustNewHandlerWith(tb, cfg, pub, deliveries)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(zerolog.Nop().WithContext(r.Context())))
	}))
	tb.Cleanup(ts.Close)
	return &stack{url: ts.URL, js: js, srv: srv}
}

// send posts d to the stack and returns the status and decoded answer.
func (s *stack) send(tb testing.TB, d delivery) (int, response) {
	tb.Helper()
	req, err := http.NewRequest(cmp.Or(d.method, http.MethodPost), s.url+d.path, bytes.NewReader(d.body))
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range d.header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var got response
	if err := json.Unmarshal(b, &got); err != nil {
		tb.Fatalf("answer %q: %v", b, err)
	}
	return res.StatusCode, got
}

// stored returns every event in the stream, oldest first.
func (s *stack) stored(tb testing.TB) []events.Envelope {
	tb.Helper()
	envs, err := natsjs.Events(context.Background(), s.js, events.SubjectRoot+".>")
	if err != nil {
		tb.Fatal(err)
	}
	return envs
}

func jetstreamConfig() Config {
	return Config{
		Secrets: map[string][][]byte{
			"woodpecker-ci/woodpecker":          {secretOld, secretNew},
			"ailisp/gcbapp-buildconfig-example": {secretNew},
			"anbraten/woodpecker":               {secretNew},
		},
		MaxBodyBytes:   64 << 10,
		PublishTimeout: 2 * time.Second,
		DefaultBranch:  "main",
	}
}

// TestJetStreamStatusCodes sends one delivery per answer of the package
// contract to the real receiver and checks what the stream holds after
// each: nothing new unless the answer is an accepted, new event.
func TestJetStreamStatusCodes(t *testing.T) {
	s := mustStack(t, jetstreamConfig())
	push := MustReadFixture(t, "push-main-1commit.json")
	const pushKey = "push.woodpecker-ci_2fwoodpecker.refs_2fheads_2fmain.366701fde727cb7a9e7f21eb88264f59f6f9b89c.2f780193b136b72bfea4eeb640786a8c4450c7a2"
	gitlabMR := forgetestRead(t, "../forge/gitlab/testdata/merge_request-update-no-code-change.json")
	unknownRepo := bytes.Replace(push, []byte(`"full_name": "woodpecker-ci/woodpecker"`), []byte(`"full_name": "stranger/repo"`), 1)
	tests := []struct {
		name       string
		req        delivery
		wantStatus int
		want       response
		wantStored int // events in the stream after the request
	}{
		{"405 wrong method", delivery{method: http.MethodGet, path: "/webhooks/github"}, 405, response{Status: "error", Error: "method not allowed"}, 0},
		{"404 unknown forge", delivery{path: "/webhooks/subversion", body: push}, 404, response{Status: "error", Error: "unknown forge"}, 0},
		{"413 body too large", githubDelivery("push", bytes.Repeat([]byte(" "), 65<<10), secretOld), 413, response{Status: "error", Error: "body too large"}, 0},
		{"400 malformed", githubDelivery("push", []byte(`{"ref":`), secretOld), 400, response{Status: "error", Error: "malformed payload"}, 0},
		{"403 repository not configured", githubDelivery("push", unknownRepo, secretOld), 403, response{Status: "error", Error: "repository not configured"}, 0},
		{"401 missing signature", githubDelivery("push", push, nil), 401, response{Status: "error", Error: "signature missing or invalid"}, 0},
		{"401 wrong signature", githubDelivery("push", push, secretOther), 401, response{Status: "error", Error: "signature missing or invalid"}, 0},
		{"200 ping", githubDelivery("ping", MustReadFixture(t, "ping.json"), secretNew), 200, response{Status: "ignored", Reason: forge.ReasonPing}, 0},
		{"202 ignored", gitlabDelivery("Merge Request Hook", "mr-1", gitlabMR, secretNew), 202, response{Status: "ignored", Reason: forge.ReasonNoNewCommits}, 0},
		{"202 accepted", githubDelivery("push", push, secretOld), 202, response{Status: "accepted", ID: pushKey}, 1},
		{"202 duplicate: the same delivery again", githubDelivery("push", push, secretNew), 202, response{Status: "accepted", ID: pushKey, Duplicate: true}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := s.send(t, tt.req)
			if status != tt.wantStatus || got != tt.want {
				t.Errorf("answer %d %+v, want %d %+v", status, got, tt.wantStatus, tt.want)
			}
			if n := len(s.stored(t)); n != tt.wantStored {
				t.Errorf("stream holds %d events, want %d", n, tt.wantStored)
			}
		})
	}
	env := s.stored(t)[0]
	e, err := env.Decode()
	if err != nil {
		t.Fatal(err)
	}
	p := e.(*events.PushReceived)
	if env.ID != pushKey || p.DeliveryID != "gh-delivery-1" || p.ReceivedAt.IsZero() || p.After != "366701fde727cb7a9e7f21eb88264f59f6f9b89c" {
		t.Errorf("stored %s %+v", env.ID, p)
	}
}

func gitlabDelivery(eventType, id string, body, secret []byte) delivery {
	return delivery{path: "/webhooks/gitlab", body: body, header: map[string]string{
		"Content-Type":    "application/json",
		"X-Gitlab-Event":  eventType,
		"Idempotency-Key": id,
		"X-Gitlab-Token":  string(secret),
	}}
}

// TestJetStreamUnavailable checks that a delivery JetStream cannot store is
// answered 503, is not recorded, and is accepted when the host retries.
func TestJetStreamUnavailable(t *testing.T) {
	s := mustStack(t, jetstreamConfig())
	ctx := context.Background()
	if err := s.js.DeleteStream(ctx, natsjs.StreamName); err != nil {
		t.Fatal(err)
	}
	d := githubDelivery("push", MustReadFixture(t, "push-main-1commit.json"), secretOld)
	status, got := s.send(t, d)
	if status != http.StatusServiceUnavailable || got.Error != "event not stored, retry later" {
		t.Fatalf("answer %d %+v, want 503", status, got)
	}
	if err := natsjs.Provision(ctx, s.js, natsjs.DefaultTopology()); err != nil {
		t.Fatal(err)
	}
	if n := len(s.stored(t)); n != 0 {
		t.Fatalf("stream holds %d events after a 503", n)
	}
	status, got = s.send(t, d)
	if status != http.StatusAccepted || got.Duplicate {
		t.Errorf("retry answered %d %+v, want 202 and not a duplicate", status, got)
	}
	if n := len(s.stored(t)); n != 1 {
		t.Errorf("stream holds %d events after the retry, want 1", n)
	}
}

// TestJetStreamDown checks that a delivery arriving while the NATS server is
// down is answered 503 within the publish timeout.
func TestJetStreamDown(t *testing.T) {
	cfg := jetstreamConfig()
	cfg.PublishTimeout = time.Second
	s := mustStack(t, cfg)
	s.srv.Shutdown()
	start := time.Now()
	status, got := s.send(t, githubDelivery("push", MustReadFixture(t, "push-main-1commit.json"), secretOld))
	if status != http.StatusServiceUnavailable || got.Error != "event not stored, retry later" {
		t.Errorf("answer %d %+v, want 503", status, got)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("answered after %s", d)
	}
}

// TestJetStreamRedelivery checks both layers of deduplication, with the
// redelivery sent to the receiver that stored the delivery or to another
// one (a second ingest process on the same NATS): at once, JetStream's
// duplicate window refuses it whatever the receiver knows; once the window
// has passed, the delivery record does, so the stream holds one event. A new
// delivery of the same push (another id) is then stored again, showing the
// window is indeed over.
func TestJetStreamRedelivery(t *testing.T) {
	tests := []struct {
		name    string
		another bool          // redeliver to another receiver
		after   time.Duration // wait before redelivering
	}{
		{"same receiver, after the window", false, 2500 * time.Millisecond},
		{"another receiver, after the window", true, 2500 * time.Millisecond},
		{"another receiver, at once", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := jetstreamConfig()
			first := mustStack(t, cfg)
			topo := natsjs.DefaultTopology()
			topo.DuplicateWindow = time.Second
			if err := natsjs.Provision(context.Background(), first.js, topo); err != nil {
				t.Fatal(err)
			}
			redeliverTo := first
			if tt.another {
				redeliverTo = mustReceiver(t, first.srv, cfg)
			}
			push := MustReadFixture(t, "push-main-1commit.json")
			d := githubDelivery("push", push, secretOld)
			if status, got := first.send(t, d); status != http.StatusAccepted || got.Duplicate {
				t.Fatalf("first delivery: %d %+v", status, got)
			}
			time.Sleep(tt.after)
			if status, got := redeliverTo.send(t, d); status != http.StatusAccepted || !got.Duplicate {
				t.Errorf("redelivery: %d %+v, want 202 duplicate", status, got)
			}
			if n := len(first.stored(t)); n != 1 {
				t.Errorf("stream holds %d events after the redelivery, want 1", n)
			}
			if tt.after == 0 {
				return
			}
			other := githubDelivery("push", push, secretOld)
			other.header["X-GitHub-Delivery"] = "gh-delivery-2"
			if status, got := redeliverTo.send(t, other); status != http.StatusAccepted || got.Duplicate {
				t.Errorf("another delivery of the same push after the window: %d %+v", status, got)
			}
			if n := len(first.stored(t)); n != 2 {
				t.Errorf("stream holds %d events, want 2: the window should be over", n)
			}
		})
	}
}

// TestJetStreamSameCommitBuiltOnce delivers the same commit twice through two
// different deliveries, a push to a branch and the synchronize of its pull
// request (the same story in the corpus), and checks that both events lead
// to the one build claim of each service: the second claim finds the build
// done.
func TestJetStreamSameCommitBuiltOnce(t *testing.T) {
	s := mustStack(t, jetstreamConfig())
	ctx := context.Background()
	for _, d := range []delivery{
		githubDelivery("push", forgetestRead(t, "../forge/github/testdata/push-branch-1commit.json"), secretNew),
		githubDelivery("pull_request", forgetestRead(t, "../forge/github/testdata/pull_request-synchronize.json"), secretNew),
	} {
		d.header["X-GitHub-Delivery"] = d.header["X-GitHub-Event"] + "-delivery"
		if status, got := s.send(t, d); status != http.StatusAccepted || got.Duplicate {
			t.Fatalf("%s: %d %+v", d.header["X-GitHub-Event"], status, got)
		}
	}
	var keys []string
	for _, env := range s.stored(t) {
		e, err := env.Decode()
		if err != nil {
			t.Fatal(err)
		}
		switch e := e.(type) {
		case *events.PushReceived:
			keys = append(keys, events.BuildKey(e.Repo.FullName, e.After, "web"))
		case *events.PullRequestChanged:
			keys = append(keys, events.BuildKey(e.Repo.FullName, e.HeadSHA, "web"))
		}
	}
	if len(keys) != 2 || keys[0] != keys[1] {
		t.Fatalf("build keys %v: want the same key for both events", keys)
	}
	kv, err := s.js.KeyValue(ctx, natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	lease, err := natsstore.NewClaims(kv, "builder-1").Claim(ctx, keys[0], time.Minute)
	if err != nil {
		t.Fatalf("first claim: %v", err)
	}
	if err := lease.Complete(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := natsstore.NewClaims(kv, "builder-2").Claim(ctx, keys[1], time.Minute); !errors.Is(err, events.ErrAlreadyDone) {
		t.Errorf("second claim of %s = %v, want already done", keys[1], err)
	}
}

// TestJetStreamSeveralEvents checks that a delivery of several refs stores
// one event per ref and answers with every id.
func TestJetStreamSeveralEvents(t *testing.T) {
	cfg := jetstreamConfig()
	cfg.Secrets["acme/shop"] = [][]byte{secretNew}
	s := mustStack(t, cfg)
	d := bitbucketPushAndTag(t)
	status, _ := s.send(t, d)
	if status != http.StatusAccepted {
		t.Fatalf("status %d", status)
	}
	var subjects []string
	for _, env := range s.stored(t) {
		subjects = append(subjects, env.Type)
	}
	if want := []string{events.TypePushReceived, events.TypeTagPushed}; !reflect.DeepEqual(subjects, want) {
		t.Errorf("stored %v, want %v", subjects, want)
	}
	e, err := s.stored(t)[0].Decode()
	if err != nil {
		t.Fatal(err)
	}
	if got := e.(*events.PushReceived).Repo.DefaultBranch; got != "main" {
		t.Errorf("default branch %q: the configured default was not applied", got)
	}
}

// shortWindow gives the stream of s a duplicate window of one second.
func shortWindow(tb testing.TB, s *stack) {
	tb.Helper()
	topo := natsjs.DefaultTopology()
	topo.DuplicateWindow = time.Second
	if err := natsjs.Provision(context.Background(), s.js, topo); err != nil {
		tb.Fatal(err)
	}
}

// TestJetStreamRedeliveryAfterRestart checks that a receiver started after
// a delivery was stored (a restarted ingest process) refuses its
// redelivery once the duplicate window has passed: it read the record from
// the stream.
func TestJetStreamRedeliveryAfterRestart(t *testing.T) {
	cfg := jetstreamConfig()
	first := mustStack(t, cfg)
	shortWindow(t, first)
	d := githubDelivery("push", MustReadFixture(t, "push-main-1commit.json"), secretOld)
	if status, got := first.send(t, d); status != http.StatusAccepted || got.Duplicate {
		t.Fatalf("first delivery: %d %+v", status, got)
	}
	time.Sleep(1500 * time.Millisecond)
	restarted := mustReceiver(t, first.srv, cfg)
	if status, got := restarted.send(t, d); status != http.StatusAccepted || !got.Duplicate {
		t.Errorf("redelivery to the restarted receiver: %d %+v, want 202 duplicate", status, got)
	}
	if n := len(first.stored(t)); n != 1 {
		t.Errorf("stream holds %d events, want 1", n)
	}
}

// TestJetStreamDuplicateRecorded checks that a delivery whose event
// JetStream refused as a duplicate of another delivery's is recorded too:
// its own redelivery after the window publishes nothing.
func TestJetStreamDuplicateRecorded(t *testing.T) {
	cfg := jetstreamConfig()
	s := mustStack(t, cfg)
	shortWindow(t, s)
	push := MustReadFixture(t, "push-main-1commit.json")
	d1 := githubDelivery("push", push, secretOld)
	d2 := githubDelivery("push", push, secretOld)
	d2.header["X-GitHub-Delivery"] = "gh-delivery-2"
	if status, got := s.send(t, d1); status != http.StatusAccepted || got.Duplicate {
		t.Fatalf("first delivery: %d %+v", status, got)
	}
	if status, got := s.send(t, d2); status != http.StatusAccepted || !got.Duplicate {
		t.Fatalf("second delivery of the same push: %d %+v, want 202 duplicate", status, got)
	}
	time.Sleep(1500 * time.Millisecond)
	other := mustReceiver(t, s.srv, cfg)
	if status, got := other.send(t, d2); status != http.StatusAccepted || !got.Duplicate {
		t.Errorf("redelivery of the second delivery after the window: %d %+v, want 202 duplicate", status, got)
	}
	if n := len(s.stored(t)); n != 1 {
		t.Errorf("stream holds %d events, want 1", n)
	}
}

// TestJetStreamPartlyStored checks that a delivery of several events whose
// last event JetStream refused is answered 503 and not recorded: the
// host's retry stores the missing event.
func TestJetStreamPartlyStored(t *testing.T) {
	ctx := context.Background()
	cfg := jetstreamConfig()
	cfg.Secrets["acme/shop"] = [][]byte{secretNew}
	s := mustStack(t, cfg)
	stream, err := s.js.Stream(ctx, natsjs.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	// One message on the tag subject, and no room for another there.
	sc := stream.CachedInfo().Config
	if _, err := s.js.Publish(ctx, events.SubjectTagPushed, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	limited := sc
	limited.MaxMsgsPerSubject, limited.Discard, limited.DiscardNewPerSubject = 1, jetstream.DiscardNew, true
	if _, err := s.js.UpdateStream(ctx, limited); err != nil {
		t.Fatal(err)
	}
	d := bitbucketPushAndTag(t)
	if status, got := s.send(t, d); status != http.StatusServiceUnavailable {
		t.Fatalf("delivery with its tag refused: %d %+v, want 503", status, got)
	}
	if err := stream.Purge(ctx, jetstream.WithPurgeSubject(events.SubjectTagPushed)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.js.UpdateStream(ctx, sc); err != nil {
		t.Fatal(err)
	}
	status, got := s.send(t, d)
	if status != http.StatusAccepted || got.Duplicate {
		t.Errorf("retry: %d %+v, want 202 and not a duplicate", status, got)
	}
	var types []string
	for _, env := range s.stored(t) {
		types = append(types, env.Type)
	}
	if want := []string{events.TypePushReceived, events.TypeTagPushed}; !reflect.DeepEqual(types, want) {
		t.Errorf("stored %v, want %v", types, want)
	}
}

// bitbucketPushAndTag is a Bitbucket Cloud delivery of a branch and a tag
// pushed together: two events.
func bitbucketPushAndTag(tb testing.TB) delivery {
	tb.Helper()
	const shaA, shaB = "141977fedf5cf35aa290ac87d4b5177ac4cd9de1", "40e7580cf11311d84a6e5e97e2cbba6df1675750"
	body := []byte(`{"push":{"changes":[` +
		`{"new":{"type":"branch","name":"main","target":{"hash":"` + shaA + `"}},"old":{"type":"branch","name":"main","target":{"hash":"` + shaB + `"}}},` +
		`{"new":{"type":"tag","name":"v1","target":{"hash":"` + shaA + `"}},"old":null,"created":true}` +
		`]},"repository":{"full_name":"acme/shop","links":{"html":{"href":"https://bitbucket.org/acme/shop"}}}}`)
	return delivery{path: "/webhooks/bitbucket", body: body, header: map[string]string{
		"Content-Type":    "application/json",
		"X-Event-Key":     "repo:push",
		"X-Request-UUID":  "bb-1",
		"X-Hub-Signature": "sha256=" + hex.EncodeToString(forge.SignHMACSHA256(body, secretNew)),
	}}
}
