package ingest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
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
	panic("boom") // as a runtime error in a publisher would
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

// TestServeHTTPSharedSecrets checks deliveries verified before their body
// is read against the configured secrets: a secret shared by repositories
// verifies each (whichever holder matched first), the body naming its
// repository in another case than the configuration included; and a
// repository's secret never verifies another's delivery.
func TestServeHTTPSharedSecrets(t *testing.T) {
	push := MustReadFixture(t, "push-main-1commit.json")
	shared := []byte("one-secret-for-all-never-logged")
	cfg := Config{Secrets: map[string][][]byte{
		"aaa/first":                {shared},
		"Woodpecker-CI/Woodpecker": {shared},
		"zzz/last":                 {secretOther},
	}}
	tests := []struct {
		name       string
		secret     []byte
		wantStatus int
	}{
		{"shared secret, another holder sorted first", shared, 202},
		{"the secret of another repository", secretOther, 401},
		{"no configured secret", secretOld, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &stubPublisher{}
			rec := httptest.NewRecorder()
			MustNewHandler(t, cfg, pub).ServeHTTP(rec, githubDelivery("push", push, tt.secret).request(zerolog.Nop()))
			if rec.Code != tt.wantStatus || (len(pub.published()) == 1) != (tt.wantStatus == 202) {
				t.Errorf("status %d, %d published; want %d", rec.Code, len(pub.published()), tt.wantStatus)
			}
		})
	}
}

// TestNamedStrings checks the strings verifyRaw tries the secrets of first.
func TestNamedStrings(t *testing.T) {
	body := []byte(`{"ref":"refs/heads/Main","x":"a\"b/c","repository":{"name":"shop","full_name":"Acme/Shop"},"long":"` + strings.Repeat("x/", 200) + `"}`)
	var got []string
	namedStrings(body, func(s []byte) bool { got = append(got, string(s)); return true })
	if want := []string{"refs/heads/main", "acme/shop"}; !slices.Contains(got, want[0]) || !slices.Contains(got, want[1]) || slices.ContainsFunc(got, func(s string) bool { return len(s) > 256 }) {
		t.Errorf("namedStrings = %q, want %q among them and no long string", got, want)
	}
	var first []string
	namedStrings(body, func(s []byte) bool { first = append(first, string(s)); return false })
	if len(first) != 1 {
		t.Errorf("namedStrings went on after yield returned false: %q", first)
	}
}
