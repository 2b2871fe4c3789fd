package gitlab

import (
	"encoding/base64"
	"errors"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/forge"
	"github.com/slipway-dev/slipway/forge/forgetest"
)

var now = time.Date(2026, 11, 26, 13, 0, 0, 0, time.UTC)

func newForge() *Forge { return New(WithClock(func() time.Time { return now })) }

func TestConformance(t *testing.T) {
	forgetest.Run(t, forgetest.Harness{
		Forge:           newForge(),
		Header:          header,
		Sign:            signBoth,
		PushType:        kindPush,
		Push:            forgetest.MustReadFile(t, filepath.Join("testdata", "push-1commit.json")),
		PullRequestType: kindMergeRequest,
		PullRequest:     forgetest.MustReadFile(t, filepath.Join("testdata", "merge_request-update-new-commits.json")),
		UnhandledType:   "Note Hook",
		Unhandled:       []byte(`{"object_kind":"note","project":{"path_with_namespace":"a/b"}}`),
	})
}

func header(eventType, deliveryID string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(headerEvent, eventType)
	h.Set(headerIdempotencyKey, deliveryID)
	h.Set(headerEventUUID, "event-"+deliveryID)
	return h
}

// signBoth sends the secret as the token and signs the body with it, as a
// hook with both a secret token and a signing token does.
func signBoth(h http.Header, body, secret []byte) {
	h.Set(headerToken, string(secret))
	signStandard(h, body, secret, now)
}

func signStandard(h http.Header, body, secret []byte, at time.Time) {
	ts := strconv.FormatInt(at.Unix(), 10)
	h.Set(headerWebhookID, "msg-1")
	h.Set(headerTimestamp, ts)
	h.Set(headerSignature, sign("msg-1", ts, body, secret))
}

func sign(id, timestamp string, body, secret []byte) string {
	content := append([]byte(id+"."+timestamp+"."), body...)
	return "v1," + base64.StdEncoding.EncodeToString(forge.SignHMACSHA256(content, signingKey(secret)))
}

func TestVerify(t *testing.T) {
	body := forgetest.MustReadFile(t, filepath.Join("testdata", "push-1commit.json"))
	good, bad := []byte("s3cret-token"), []byte("wrong")
	whsec := []byte("whsec_" + base64.StdEncoding.EncodeToString([]byte("raw signing key")))
	tampered := append([]byte(nil), body...)
	tampered[10] ^= 1
	tests := []struct {
		name    string
		header  func(h http.Header)
		body    []byte
		secrets [][]byte
		wantErr error
	}{
		{"token", func(h http.Header) { h.Set(headerToken, "s3cret-token") }, body, [][]byte{good}, nil},
		{"token, rotated", func(h http.Header) { h.Set(headerToken, "s3cret-token") }, body, [][]byte{bad, good}, nil},
		{"token, wrong", func(h http.Header) { h.Set(headerToken, "s3cret-tokem") }, body, [][]byte{good}, forge.ErrBadSignature},
		{"token, prefix only", func(h http.Header) { h.Set(headerToken, "s3cret") }, body, [][]byte{good}, forge.ErrBadSignature},
		{"missing", func(http.Header) {}, body, [][]byte{good}, forge.ErrMissingSignature},
		{"signature", func(h http.Header) { signStandard(h, body, good, now) }, body, [][]byte{good}, nil},
		{"signature, rotated", func(h http.Header) { signStandard(h, body, good, now) }, body, [][]byte{bad, good}, nil},
		{"signature, whsec key", func(h http.Header) { signStandard(h, body, whsec, now) }, body, [][]byte{whsec}, nil},
		{"signature, several values", func(h http.Header) {
			signStandard(h, body, good, now)
			h.Set(headerSignature, "v1,AAAA "+h.Get(headerSignature))
		}, body, [][]byte{good}, nil},
		{"signature, tampered body", func(h http.Header) { signStandard(h, body, good, now) }, tampered, [][]byte{good}, forge.ErrBadSignature},
		{"signature, wrong secret", func(h http.Header) { signStandard(h, body, bad, now) }, body, [][]byte{good}, forge.ErrBadSignature},
		{"signature, wrong algorithm", func(h http.Header) {
			signStandard(h, body, good, now)
			h.Set(headerSignature, "v1a"+h.Get(headerSignature)[2:])
		}, body, [][]byte{good}, forge.ErrBadSignature},
		{"signature, too old", func(h http.Header) { signStandard(h, body, good, now.Add(-6*time.Minute)) }, body, [][]byte{good}, forge.ErrBadSignature},
		{"signature, from the future", func(h http.Header) { signStandard(h, body, good, now.Add(6*time.Minute)) }, body, [][]byte{good}, forge.ErrBadSignature},
		{"signature, no id", func(h http.Header) {
			signStandard(h, body, good, now)
			h.Del(headerWebhookID)
		}, body, [][]byte{good}, forge.ErrBadSignature},
		{"signature good, token wrong", func(h http.Header) {
			signStandard(h, body, good, now)
			h.Set(headerToken, "nope")
		}, body, [][]byte{good}, forge.ErrBadSignature},
		{"token good, signature wrong", func(h http.Header) {
			signStandard(h, body, bad, now)
			h.Set(headerToken, "s3cret-token")
		}, body, [][]byte{good}, forge.ErrBadSignature},
		{"no secrets", func(h http.Header) { h.Set(headerToken, "s3cret-token") }, body, nil, forge.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			tt.header(h)
			err := newForge().Verify(forge.Request{Header: h, Body: tt.body}, tt.secrets)
			if tt.wantErr == nil && err != nil || !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestDeliveryID(t *testing.T) {
	body := forgetest.MustReadFile(t, filepath.Join("testdata", "push-1commit.json"))
	tests := []struct {
		name   string
		header map[string]string
		want   string
	}{
		{"idempotency key first", map[string]string{headerIdempotencyKey: "k", headerEventUUID: "u", headerWebhookID: "w"}, "k"},
		{"event uuid", map[string]string{headerEventUUID: "u", headerWebhookID: "w"}, "u"},
		{"webhook id", map[string]string{headerWebhookID: "w"}, "w"},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(headerEvent, kindPush)
			for k, v := range tt.header {
				h.Set(k, v)
			}
			d, err := newForge().Parse(forge.Request{Header: h, Body: body})
			if err != nil || d.ID != tt.want {
				t.Errorf("Parse() = %q, %v, want %q", d.ID, err, tt.want)
			}
		})
	}
}
