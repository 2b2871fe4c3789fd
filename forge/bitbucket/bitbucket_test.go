package bitbucket

import (
	"encoding/hex"
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
	forgetest.VerifySHA256Header(t, New(), headerSignature, forgetest.MustReadFile(t, filepath.Join("testdata", "repo-push.json")))
}
