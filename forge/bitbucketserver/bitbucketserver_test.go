package bitbucketserver

import (
	"encoding/hex"
	"errors"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/slipway-dev/slipway/forge"
	"github.com/slipway-dev/slipway/forge/forgetest"
)

// Base is the server base URL the tests configure.
const Base = "https://bitbucket.example.com"

func TestConformance(t *testing.T) {
	forgetest.Run(t, forgetest.Harness{
		Forge:           New(WithBaseURL(Base + "/")),
		Header:          header,
		Sign:            sign,
		PushType:        "repo:refs_changed",
		Push:            forgetest.MustReadFile(t, filepath.Join("testdata", "server-refs_changed-update.json")),
		PullRequestType: "pr:from_ref_updated",
		PullRequest:     forgetest.MustReadFile(t, filepath.Join("testdata", "server-pr-from_ref_updated.json")),
		PingType:        "diagnostics:ping",
		Ping:            []byte(`{"test":true}`),
		UnhandledType:   "repo:comment:added",
		Unhandled:       []byte(`{"eventKey":"repo:comment:added","repository":{"slug":"r","project":{"key":"P"}}}`),
		EventInBody:     true,
	})
}

func header(eventType, deliveryID string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set(headerEvent, eventType)
	h.Set(headerDelivery, deliveryID)
	return h
}

func sign(h http.Header, body, secret []byte) {
	h.Set(headerSignature, "sha256="+hex.EncodeToString(forge.SignHMACSHA256(body, secret)))
}

func TestVerify(t *testing.T) {
	forgetest.VerifySHA256Header(t, New(), headerSignature, forgetest.MustReadFile(t, filepath.Join("testdata", "server-pr-opened.json")))
}

func TestRepo(t *testing.T) {
	for _, file := range []string{"server-refs_changed-update.json", "server-pr-opened.json"} {
		got, err := New().Repo(forge.Request{Body: forgetest.MustReadFile(t, filepath.Join("testdata", file))})
		if err != nil || got != "PRJ/my-repo" {
			t.Errorf("Repo(%s) = %q, %v", file, got, err)
		}
	}
}

// TestParseWithoutBaseURL checks that a payload without clone links is
// refused when no base URL is configured, and used when it is.
func TestParseWithoutBaseURL(t *testing.T) {
	body := forgetest.MustReadFile(t, filepath.Join("testdata", "server-refs_changed-update.json"))
	req := forge.Request{Header: header("repo:refs_changed", "r-1"), Body: body}
	if _, err := New().Parse(req); !errors.Is(err, forge.ErrMalformed) {
		t.Errorf("Parse() without base = %v, want ErrMalformed", err)
	}
	d, err := New(WithBaseURL(Base)).Parse(req)
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	if got := d.Events[0].(interface{ CESubject() string }).CESubject(); got != "PRJ/my-repo@823b2230a56056231c9425d63758fa87078a66b4" {
		t.Errorf("subject %q", got)
	}
	// A payload with clone links needs no base URL.
	pr := forge.Request{Header: header("pr:from_ref_updated", "r-2"), Body: forgetest.MustReadFile(t, filepath.Join("testdata", "server-pr-from_ref_updated.json"))}
	if _, err := New().Parse(pr); err != nil {
		t.Errorf("Parse(pr with links) = %v", err)
	}
}
