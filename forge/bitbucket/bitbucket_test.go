package bitbucket

import (
	"encoding/hex"
	"errors"
	"net/http"
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
		PushType:        "repo:push",
		Push:            forgetest.MustReadFile(t, filepath.Join("testdata", "repo-push.json")),
		PullRequestType: "pullrequest:updated",
		PullRequest:     forgetest.MustReadFile(t, filepath.Join("testdata", "pullrequest-updated.json")),
		UnhandledType:   "repo:fork",
		Unhandled:       []byte(`{"repository":{"full_name":"a/b"}}`),
	})
}

func header(eventType, deliveryID string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(headerEvent, eventType)
	h.Set(headerDelivery, deliveryID)
	h.Set("X-Hook-UUID", "{hook-uuid}")
	h.Set("X-Attempt-Number", "1")
	return h
}

func sign(h http.Header, body, secret []byte) {
	h.Set(headerSignature, "sha256="+hex.EncodeToString(forge.SignHMACSHA256(body, secret)))
}

func TestVerify(t *testing.T) {
	body := forgetest.MustReadFile(t, filepath.Join("testdata", "repo-push.json"))
	good, bad := []byte("s3cret"), []byte("wrong")
	sig := hex.EncodeToString(forge.SignHMACSHA256(body, good))
	tests := []struct {
		name    string
		value   string
		secrets [][]byte
		wantErr error
	}{
		{"valid", "sha256=" + sig, [][]byte{good}, nil},
		{"rotated", "sha256=" + sig, [][]byte{bad, good}, nil},
		{"invalid", "sha256=" + hex.EncodeToString(forge.SignHMACSHA256(body, bad)), [][]byte{good}, forge.ErrBadSignature},
		{"missing", "", [][]byte{good}, forge.ErrMissingSignature},
		{"sha1 prefix", "sha1=" + sig, [][]byte{good}, forge.ErrBadSignature},
		{"sha1 digest", "sha256=" + hex.EncodeToString(forge.SignHMACSHA1(body, good)), [][]byte{good}, forge.ErrBadSignature},
		{"no prefix", sig, [][]byte{good}, forge.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.value != "" {
				h.Set(headerSignature, tt.value)
			}
			err := New().Verify(forge.Request{Header: h, Body: body}, tt.secrets)
			if tt.wantErr == nil && err != nil || !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
