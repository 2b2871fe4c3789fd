package notifier_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/notifier"
)

const secret = "s3cret-for-tests"

// receiver is a real HTTP receiver that checks each delivery's signature
// and records what it got; it fails the first failures deliveries.
type receiver struct {
	t        *testing.T
	failures int32
	calls    atomic.Int32
	mu       sync.Mutex
	got      []delivery
	srv      *httptest.Server
}

type delivery struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, failures int32) *receiver {
	r := &receiver{t: t, failures: failures}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if r.calls.Add(1) <= r.failures {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		ts := req.Header.Get(notifier.TimestampHeader)
		if want := notifier.Sign(secret, ts, body); req.Header.Get(notifier.SignatureHeader) != want {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		r.mu.Lock()
		r.got = append(r.got, delivery{header: req.Header.Clone(), body: body})
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

var repo = events.Repo{Forge: "github", FullName: "acme/shop"}

func rollbackSucceeded() *events.DeploySucceeded {
	req := &events.DeployRequested{Env: "production", Repo: repo, Commit: "0123456789abcdef0123", Kind: events.KindRollback, Actor: "ops-ann", Nonce: "rollback-1"}
	return req.Result(events.OutcomeSucceeded, "", time.Unix(1000, 0)).Event().(*events.DeploySucceeded)
}

func TestSendFormatsAndSignatures(t *testing.T) {
	slack, ce := newReceiver(t, 0), newReceiver(t, 0)
	s := &notifier.Sender{Targets: []notifier.Target{
		{URL: slack.srv.URL + "/hooks/T0/B0/xyz", Format: notifier.FormatSlack, Secret: secret},
		{URL: ce.srv.URL, Format: notifier.FormatCloudEvents, Secret: secret},
	}}
	ev := rollbackSucceeded()
	n, ok := notifier.FromDeploy(ev.DedupKey(), ev)
	if !ok {
		t.Fatal("a deploy result is not notified")
	}
	if err := s.Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	sl, c := slack.deliveries(), ce.deliveries()
	if len(sl) != 1 || len(c) != 1 {
		t.Fatalf("deliveries: slack %d, cloudevents %d, want 1 each", len(sl), len(c))
	}
	var body struct {
		Text   string `json:"text"`
		Blocks []any  `json:"blocks"`
	}
	if err := json.Unmarshal(sl[0].body, &body); err != nil {
		t.Fatal(err)
	}
	if want := ":rewind: acme/shop: production rolled back to 0123456789ab by ops-ann"; body.Text != want || len(body.Blocks) != 1 {
		t.Errorf("slack text %q (%d blocks), want %q", body.Text, len(body.Blocks), want)
	}
	h := c[0].header
	for k, want := range map[string]string{"Ce-Specversion": "1.0", "Ce-Type": "dev.slipway.notify.rollback.succeeded",
		"Ce-Id": ev.DedupKey(), "Ce-Source": "/slipway", "Ce-Subject": "acme/shop/production", "Content-Type": "application/json"} {
		if h.Get(k) != want {
			t.Errorf("header %s = %q, want %q", k, h.Get(k), want)
		}
	}
	var data notifier.Notification
	if err := json.Unmarshal(c[0].body, &data); err != nil {
		t.Fatal(err)
	}
	if data.Kind != notifier.KindRollbackSucceeded || data.Actor != "ops-ann" || data.Env != "production" || data.Commit != "0123456789abcdef0123" {
		t.Errorf("cloudevents data %+v", data)
	}
}

func TestSendRetriesAFailingReceiver(t *testing.T) {
	flaky := newReceiver(t, 3)
	s := &notifier.Sender{Targets: []notifier.Target{{URL: flaky.srv.URL, Format: notifier.FormatCloudEvents, Secret: secret}},
		Backoff: 10 * time.Millisecond}
	ev := rollbackSucceeded()
	n, _ := notifier.FromDeploy(ev.DedupKey(), ev)
	if err := s.Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if got := flaky.calls.Load(); got != 4 {
		t.Errorf("%d calls, want 3 failures and 1 delivery", got)
	}
	if len(flaky.deliveries()) != 1 {
		t.Errorf("delivered %d times, want 1", len(flaky.deliveries()))
	}
}

func TestSendGivesUpWithoutLeakingTheURL(t *testing.T) {
	down := newReceiver(t, 100)
	refuses := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) }))
	defer refuses.Close()
	s := &notifier.Sender{Targets: []notifier.Target{
		{URL: down.srv.URL + "/hooks/secret-path", Format: notifier.FormatSlack},
		{URL: refuses.URL + "/hooks/other-secret", Format: notifier.FormatSlack},
	}, Attempts: 3, Backoff: time.Millisecond}
	ev := rollbackSucceeded()
	n, _ := notifier.FromDeploy(ev.DedupKey(), ev)
	err := s.Send(context.Background(), n)
	if err == nil {
		t.Fatal("no error from receivers that never accept")
	}
	if got := down.calls.Load(); got != 3 {
		t.Errorf("failing receiver called %d times, want 3 attempts", got)
	}
	for _, leak := range []string{"secret-path", "other-secret"} {
		if contains(err.Error(), leak) {
			t.Errorf("error %q names the URL's path", err)
		}
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in      string
		want    notifier.Format
		wantErr bool
	}{
		{"https://hooks.example/x", notifier.FormatCloudEvents, false},
		{"slack=https://hooks.example/x", notifier.FormatSlack, false},
		{"cloudevents=http://127.0.0.1:9/x", notifier.FormatCloudEvents, false},
		{"teams=https://hooks.example/x", "", true},
		{"ftp://hooks.example/x", "", true},
		{"slack=", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := notifier.ParseTarget(tt.in)
			if (err != nil) != tt.wantErr || err == nil && got.Format != tt.want {
				t.Fatalf("ParseTarget(%q) = %+v, %v; want %s, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
