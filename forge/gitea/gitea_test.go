package gitea

import (
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
	"github.com/slipway-dev/slipway/forge/forgetest"
)

func TestConformance(t *testing.T) {
	forgetest.Run(t, forgetest.Harness{
		Forge:           New(),
		Header:          header,
		Sign:            sign,
		PushType:        "push",
		Push:            forgetest.MustReadFile(t, filepath.Join("testdata", "push-multi-commit.json")),
		PullRequestType: "pull_request",
		PullRequest:     forgetest.MustReadFile(t, filepath.Join("testdata", "pull_request-synchronized.json")),
		UnhandledType:   "issues",
		Unhandled:       []byte(`{"action":"opened","issue":{"number":1}}`),
		FormPayloads:    true,
	})
}

// header returns the headers Gitea sends (it also sends the Gogs and GitHub
// copies; they are left out so each test says which ones it relies on).
func header(eventType, deliveryID string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Gitea-Event", eventType)
	h.Set("X-Gitea-Delivery", deliveryID)
	return h
}

func sign(h http.Header, payload, secret []byte) {
	h.Set("X-Gitea-Signature", hexHMAC(payload, secret))
}

func hexHMAC(body, secret []byte) string {
	return hex.EncodeToString(forge.SignHMACSHA256(body, secret))
}

func TestVerify(t *testing.T) {
	body := forgetest.MustReadFile(t, filepath.Join("testdata", "push-1commit.json"))
	good, bad := []byte("s3cret"), []byte("wrong")
	sig := hexHMAC(body, good)
	tests := []struct {
		name    string
		header  map[string]string
		secrets [][]byte
		wantErr error
	}{
		{"gitea", map[string]string{"X-Gitea-Signature": sig}, [][]byte{good}, nil},
		{"forgejo", map[string]string{"X-Forgejo-Signature": sig}, [][]byte{good}, nil},
		{"gogs", map[string]string{"X-Gogs-Signature": sig}, [][]byte{good}, nil},
		{"hub fallback", map[string]string{"X-Hub-Signature-256": "sha256=" + sig}, [][]byte{good}, nil},
		{"rotated: second secret matches", map[string]string{"X-Gitea-Signature": sig}, [][]byte{bad, good}, nil},
		{"invalid", map[string]string{"X-Gitea-Signature": hexHMAC(body, bad)}, [][]byte{good}, forge.ErrBadSignature},
		{"invalid forgejo wins over valid gogs", map[string]string{"X-Forgejo-Signature": hexHMAC(body, bad), "X-Gogs-Signature": sig}, [][]byte{good}, forge.ErrBadSignature},
		{"missing", nil, [][]byte{good}, forge.ErrMissingSignature},
		{"hook without secret", map[string]string{"X-Gitea-Signature": "", "X-Hub-Signature-256": "sha256=", "X-Hub-Signature": "sha1="}, [][]byte{good}, forge.ErrMissingSignature},
		{"wrong algorithm prefix", map[string]string{"X-Hub-Signature-256": "sha1=" + sig}, [][]byte{good}, forge.ErrBadSignature},
		{"prefixed gitea header", map[string]string{"X-Gitea-Signature": "sha256=" + sig}, [][]byte{good}, forge.ErrBadSignature},
		{"not hex", map[string]string{"X-Gitea-Signature": "zz"}, [][]byte{good}, forge.ErrBadSignature},
		{"no secrets", map[string]string{"X-Gitea-Signature": sig}, nil, forge.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			err := verify(h, body, tt.secrets)
			if tt.wantErr == nil && err != nil || !errors.Is(err, tt.wantErr) {
				t.Errorf("verify() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestVerifyForm checks that a form-encoded delivery is verified against the
// JSON payload, which is what Gitea signs, not the form body.
func TestVerifyForm(t *testing.T) {
	payload := forgetest.MustReadFile(t, filepath.Join("testdata", "push-1commit.json"))
	secret := []byte("s3cret")
	h := header("push", "d-1")
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	sign(h, payload, secret)
	req := forge.Request{Header: h, Body: []byte(url.Values{"payload": {string(payload)}}.Encode())}
	if err := New().Verify(req, [][]byte{secret}); err != nil {
		t.Fatalf("Verify() = %v", err)
	}
}

// TestParseHostHeaders checks that Forgejo's and Gogs' own headers are read
// and that the most specific host's header wins.
func TestParseHostHeaders(t *testing.T) {
	push := forgetest.MustReadFile(t, filepath.Join("testdata", "forgejo-push-multi-commit.json"))
	tests := []struct {
		name   string
		header map[string]string
		wantID string
	}{
		{"forgejo", map[string]string{"X-Forgejo-Event": "push", "X-Forgejo-Delivery": "f-1"}, "f-1"},
		{"gogs", map[string]string{"X-Gogs-Event": "push", "X-Gogs-Delivery": "g-1"}, "g-1"},
		{"gitea sends gogs and github copies", map[string]string{
			"X-Gitea-Event": "push", "X-Gitea-Delivery": "t-1",
			"X-Gogs-Event": "push", "X-Gogs-Delivery": "t-1",
			"X-GitHub-Event": "ping", "X-GitHub-Delivery": "h-1",
		}, "t-1"},
		{"forgejo sends all", map[string]string{
			"X-Forgejo-Event": "push", "X-Forgejo-Delivery": "f-1",
			"X-Gitea-Event": "push", "X-Gitea-Delivery": "f-1",
			"X-Gogs-Event": "push", "X-Gogs-Delivery": "f-1",
		}, "f-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			d, err := New().Parse(forge.Request{Header: h, Body: push})
			if err != nil {
				t.Fatalf("Parse() = %v", err)
			}
			if got := d.Events[0].(*events.PushReceived); d.ID != tt.wantID || got.DeliveryID != tt.wantID || got.Repo.Forge != Name {
				t.Errorf("delivery %q, event %+v", d.ID, got)
			}
		})
	}
}

func TestAliases(t *testing.T) {
	reg, err := forge.NewRegistry(New())
	if err != nil {
		t.Fatalf("NewRegistry() = %v", err)
	}
	for _, name := range []string{"gitea", "forgejo", "gogs"} {
		if _, ok := reg.Lookup(name); !ok {
			t.Errorf("Lookup(%q) found nothing", name)
		}
	}
}
