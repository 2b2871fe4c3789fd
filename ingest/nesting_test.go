package ingest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
)

// TestJetStreamDeepNesting sends the body that used to end the process, 5
// million nested "[", to the real receiver over HTTP: unsigned it is
// refused as unsigned before any byte is parsed, signed it is refused as
// malformed by the depth limit; nothing is published, and the receiver still
// accepts the next push.
func TestJetStreamDeepNesting(t *testing.T) {
	cfg := jetstreamConfig()
	cfg.MaxBodyBytes = DefaultMaxBodyBytes
	s := mustStack(t, cfg)
	deep := bytes.Repeat([]byte("["), 5_000_000)
	deepObject := append([]byte(`{"repository":{"full_name":"woodpecker-ci/woodpecker"},"x":`), bytes.Repeat([]byte(`{"a":`), 1_000_000)...)
	generic := func(body, secret []byte) delivery {
		d := githubDelivery("push", body, secret)
		d.path = "/webhooks/generic"
		if secret != nil {
			d.header["X-Slipway-Signature"] = d.header["X-Hub-Signature-256"]
		}
		return d
	}
	tests := []struct {
		name       string
		req        delivery
		wantStatus int
		want       response
	}{
		{"github, unsigned", githubDelivery("push", deep, nil), 401, response{Status: "error", Error: "signature missing or invalid"}},
		{"generic, unsigned", generic(deep, nil), 401, response{Status: "error", Error: "signature missing or invalid"}},
		{"github, wrong secret", githubDelivery("push", deep, secretOther), 401, response{Status: "error", Error: "signature missing or invalid"}},
		{"github, signed", githubDelivery("push", deep, secretOld), 400, response{Status: "error", Error: "malformed payload"}},
		{"generic, signed", generic(deep, secretOld), 400, response{Status: "error", Error: "malformed payload"}},
		{"github ping, signed", githubDelivery("ping", deep, secretOld), 400, response{Status: "error", Error: "malformed payload"}},
		{"github, signed objects", githubDelivery("push", deepObject, secretOld), 400, response{Status: "error", Error: "malformed payload"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := s.send(t, tt.req)
			if status != tt.wantStatus || got != tt.want {
				t.Errorf("answer %d %+v, want %d %+v", status, got, tt.wantStatus, tt.want)
			}
			if n := len(s.stored(t)); n != 0 {
				t.Errorf("stream holds %d events, want none", n)
			}
		})
	}
	status, got := s.send(t, githubDelivery("push", MustReadFixture(t, "push-main-1commit.json"), secretOld))
	if status != 202 || got.Status != "accepted" || len(s.stored(t)) != 1 {
		t.Errorf("push after the deep bodies: %d %+v, %d stored; want 202 accepted, 1 stored", status, got, len(s.stored(t)))
	}
}

// panickingPublisher is a Publisher with a bug.
type panickingPublisher struct{}

func (panickingPublisher) Publish(context.Context, events.Event) (bool, error) {
	var m map[string]int
	m["boom"]++
	return false, nil
}

// TestServeHTTPRecoversPanics checks that a panic while handling a delivery
// is answered 500 and logged, and leaves the handler serving.
func TestServeHTTPRecoversPanics(t *testing.T) {
	var logs bytes.Buffer
	h := MustNewHandler(t, testConfig(), panickingPublisher{})
	for range 2 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, githubDelivery("push", MustReadFixture(t, "push-main-1commit.json"), secretOld).request(zerolog.New(&logs)))
		if rec.Code != http.StatusInternalServerError || !strings.Contains(logs.String(), "webhook handler panicked") {
			t.Errorf("status %d, logs %q; want 500 and the panic logged", rec.Code, logs.String())
		}
	}
	mustNotLogSecrets(t, logs.String())
}
