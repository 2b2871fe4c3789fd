package github

import (
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/slipway-dev/slipway/forge"
	"github.com/slipway-dev/slipway/forge/forgetest"
)

func TestConformance(t *testing.T) {
	forgetest.Run(t, forgetest.Harness{
		Forge:           New(),
		Header:          header,
		Sign:            sign,
		PushType:        "push",
		Push:            forgetest.MustReadFile(t, filepath.Join("testdata", "push-main-1commit.json")),
		PullRequestType: "pull_request",
		PullRequest:     forgetest.MustReadFile(t, filepath.Join("testdata", "pull_request-synchronize-fork.json")),
		PingType:        "ping",
		Ping:            forgetest.MustReadFile(t, filepath.Join("testdata", "ping.json")),
		UnhandledType:   "issues",
		Unhandled:       []byte(`{"action":"opened","issue":{"number":1}}`),
		FormPayloads:    true,
	})
}

func header(eventType, deliveryID string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(headerEvent, eventType)
	h.Set(headerDelivery, deliveryID)
	return h
}

func sign(h http.Header, body, secret []byte) {
	h.Set(headerSignature, "sha256="+hexHMAC(body, secret))
}

func hexHMAC(body, secret []byte) string {
	return hex.EncodeToString(forge.SignHMACSHA256(body, secret))
}

func TestVerify(t *testing.T) {
	body := forgetest.MustReadFile(t, filepath.Join("testdata", "push-forced.json"))
	good, bad := []byte("s3cret"), []byte("wrong")
	sha1Sig := "sha1=" + hex.EncodeToString(forge.SignHMACSHA1(body, good))
	tests := []struct {
		name      string
		header    map[string]string
		secrets   [][]byte
		allowSHA1 bool
		wantErr   error
	}{
		{"valid", map[string]string{headerSignature: "sha256=" + hexHMAC(body, good)}, [][]byte{good}, false, nil},
		{"rotated: second secret matches", map[string]string{headerSignature: "sha256=" + hexHMAC(body, good)}, [][]byte{bad, good}, false, nil},
		{"rotated: first secret matches", map[string]string{headerSignature: "sha256=" + hexHMAC(body, good)}, [][]byte{good, bad}, false, nil},
		{"invalid", map[string]string{headerSignature: "sha256=" + hexHMAC(body, bad)}, [][]byte{good}, false, forge.ErrBadSignature},
		{"missing", nil, [][]byte{good}, false, forge.ErrMissingSignature},
		{"empty prefix value", map[string]string{headerSignature: "sha256="}, [][]byte{good}, false, forge.ErrMissingSignature},
		{"only sha1 header", map[string]string{headerSHA1: sha1Sig}, [][]byte{good}, false, forge.ErrMissingSignature},
		{"only sha1 header, sha1 enabled", map[string]string{headerSHA1: sha1Sig}, [][]byte{good}, true, nil},
		{"only sha1 header, sha1 enabled, wrong secret", map[string]string{headerSHA1: sha1Sig}, [][]byte{bad}, true, forge.ErrBadSignature},
		{"sha1 enabled, sha256 sent too and wrong", map[string]string{headerSHA1: sha1Sig, headerSignature: "sha256=" + hexHMAC(body, bad)}, [][]byte{good}, true, forge.ErrBadSignature},
		{"sha1 enabled, sha256 digest in sha1 header", map[string]string{headerSHA1: "sha1=" + hexHMAC(body, good)}, [][]byte{good}, true, forge.ErrBadSignature},
		{"wrong algorithm prefix", map[string]string{headerSignature: "sha1=" + hexHMAC(body, good)}, [][]byte{good}, false, forge.ErrBadSignature},
		{"no prefix", map[string]string{headerSignature: hexHMAC(body, good)}, [][]byte{good}, false, forge.ErrBadSignature},
		{"not hex", map[string]string{headerSignature: "sha256=zz"}, [][]byte{good}, false, forge.ErrBadSignature},
		{"truncated digest", map[string]string{headerSignature: "sha256=" + hexHMAC(body, good)[:40]}, [][]byte{good}, false, forge.ErrBadSignature},
		{"no secrets", map[string]string{headerSignature: "sha256=" + hexHMAC(body, good)}, nil, false, forge.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			var opts []Option
			if tt.allowSHA1 {
				opts = append(opts, WithSHA1())
			}
			err := New(opts...).Verify(forge.Request{Header: h, Body: body}, tt.secrets)
			if tt.wantErr == nil && err != nil || !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestVerifyForm checks that a form-encoded delivery is verified against the
// raw body, which is what GitHub signs.
func TestVerifyForm(t *testing.T) {
	payload := forgetest.MustReadFile(t, filepath.Join("testdata", "push-forced.json"))
	body := []byte(url.Values{"payload": {string(payload)}}.Encode())
	secret := []byte("s3cret")
	h := header("push", "d-1")
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	sign(h, body, secret)
	req := forge.Request{Header: h, Body: body}
	if err := New().Verify(req, [][]byte{secret}); err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	if _, err := New().Parse(req); err != nil {
		t.Fatalf("Parse() = %v", err)
	}
}
