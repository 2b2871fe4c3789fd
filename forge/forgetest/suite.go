package forgetest

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
)

// Harness describes one forge implementation to the conformance suite.
type Harness struct {
	// Forge is the implementation under test.
	Forge forge.Forge
	// Header returns the unsigned headers the host sends with a JSON
	// delivery of kind eventType whose delivery id is deliveryID. Hosts
	// that name the kind and id in the body ignore them.
	Header func(eventType, deliveryID string) http.Header
	// Sign adds to h the host's signature, or token, of payload under
	// secret.
	Sign func(h http.Header, payload, secret []byte)

	// Push is the payload of a push to a branch, of kind PushType.
	PushType string
	Push     []byte
	// PushDeliveryID is the delivery id Parse reports for Push when the
	// host sends it in the body; empty means the one given to Header.
	PushDeliveryID string
	// PullRequest is the payload of a pull request opened, updated,
	// merged, closed or reopened, of kind PullRequestType.
	PullRequestType string
	PullRequest     []byte
	// Ping is the payload of the host's hook test, of kind PingType; nil
	// when the host has none.
	PingType string
	Ping     []byte
	// Unhandled is the payload of a kind of event the forge ignores.
	UnhandledType string
	Unhandled     []byte

	// TokenAuth is set when the host authenticates itself with a shared
	// token or password instead of signing the body, so that a tampered
	// body cannot be detected.
	TokenAuth bool
	// EventInBody is set when the host names the kind of event in the body
	// instead of a header.
	EventInBody bool
	// FormPayloads is set when the host may post the payload
	// form-encoded (payload=...).
	FormPayloads bool
}

// Run checks that h.Forge honours the forge.Forge contract.
func Run(t *testing.T, h Harness) {
	t.Run("Verify", func(t *testing.T) { testVerify(t, h) })
	t.Run("ParsePush", func(t *testing.T) { testParsePush(t, h) })
	t.Run("ParsePullRequest", func(t *testing.T) { testParsePullRequest(t, h) })
	if h.FormPayloads {
		t.Run("FormPayload", func(t *testing.T) { testFormPayload(t, h) })
	}
	t.Run("Ignored", func(t *testing.T) { testIgnored(t, h) })
	t.Run("Malformed", func(t *testing.T) { testMalformed(t, h) })
	t.Run("Registry", func(t *testing.T) { testRegistry(t, h) })
}

var (
	secret      = []byte("conformance-secret")
	otherSecret = []byte("another-secret")
)

func (h Harness) signed(eventType string, payload []byte, key []byte) forge.Request {
	hdr := h.Header(eventType, "delivery-1")
	if key != nil {
		h.Sign(hdr, payload, key)
	}
	return forge.Request{Header: hdr, Body: payload}
}

func testVerify(t *testing.T, h Harness) {
	tampered := append([]byte(nil), h.Push...)
	tampered[len(tampered)/2] ^= 1
	tests := []struct {
		name    string
		req     forge.Request
		secrets [][]byte
		wantErr error
		skip    bool
	}{
		{name: "valid", req: h.signed(h.PushType, h.Push, secret), secrets: [][]byte{secret}},
		{name: "rotated, second secret matches", req: h.signed(h.PushType, h.Push, secret), secrets: [][]byte{otherSecret, secret}},
		{name: "wrong secret", req: h.signed(h.PushType, h.Push, otherSecret), secrets: [][]byte{secret}, wantErr: forge.ErrBadSignature},
		{name: "tampered body", req: forge.Request{Header: h.signed(h.PushType, h.Push, secret).Header, Body: tampered}, secrets: [][]byte{secret}, wantErr: forge.ErrBadSignature, skip: h.TokenAuth},
		{name: "no secrets", req: h.signed(h.PushType, h.Push, secret), wantErr: forge.ErrBadSignature},
		{name: "unsigned", req: h.signed(h.PushType, h.Push, nil), secrets: [][]byte{secret}, wantErr: forge.ErrMissingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip {
				t.Skip("the host signs no body")
			}
			err := h.Forge.Verify(tt.req, tt.secrets)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("Verify() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func testParsePush(t *testing.T, h Harness) {
	req := h.signed(h.PushType, h.Push, secret)
	d, err := h.Forge.Parse(req)
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	if len(d.Events) != 1 {
		t.Fatalf("Parse() returned %d events, want 1", len(d.Events))
	}
	p, ok := d.Events[0].(*events.PushReceived)
	if !ok {
		t.Fatalf("Parse() event %T, want *events.PushReceived", d.Events[0])
	}
	if err := CheckPush(h.Forge.Name(), p); err != nil {
		t.Error(err)
	}
	wantID := cmp.Or(h.PushDeliveryID, "delivery-1")
	if d.ID != wantID || p.DeliveryID != wantID {
		t.Errorf("delivery id %q, event delivery id %q, want %q", d.ID, p.DeliveryID, wantID)
	}
	repo, err := h.Forge.Repo(req)
	if err != nil || repo != p.Repo.FullName {
		t.Errorf("Repo() = %q, %v, want %q", repo, err, p.Repo.FullName)
	}
}

func testParsePullRequest(t *testing.T, h Harness) {
	req := h.signed(h.PullRequestType, h.PullRequest, secret)
	d, err := h.Forge.Parse(req)
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	if len(d.Events) != 1 {
		t.Fatalf("Parse() returned %d events, want 1", len(d.Events))
	}
	pr, ok := d.Events[0].(*events.PullRequestChanged)
	if !ok {
		t.Fatalf("Parse() event %T, want *events.PullRequestChanged", d.Events[0])
	}
	if err := CheckEvent(h.Forge.Name(), pr); err != nil {
		t.Error(err)
	}
	if pr.DeliveryID != d.ID {
		t.Errorf("event delivery id %q, delivery %q", pr.DeliveryID, d.ID)
	}
	repo, err := h.Forge.Repo(req)
	if err != nil || repo != pr.Repo.FullName {
		t.Errorf("Repo() = %q, %v, want %q", repo, err, pr.Repo.FullName)
	}
}

func testFormPayload(t *testing.T, h Harness) {
	hdr := h.Header(h.PushType, "delivery-1")
	hdr.Set("Content-Type", "application/x-www-form-urlencoded")
	form := forge.Request{Header: hdr, Body: []byte(url.Values{"payload": {string(h.Push)}}.Encode())}
	want, err := h.Forge.Parse(h.signed(h.PushType, h.Push, nil))
	if err != nil {
		t.Fatalf("Parse(json) = %v", err)
	}
	got, err := h.Forge.Parse(form)
	if err != nil {
		t.Fatalf("Parse(form) = %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse(form) = %+v, want %+v", got, want)
	}
	if repo, err := h.Forge.Repo(form); err != nil || repo == "" {
		t.Errorf("Repo(form) = %q, %v", repo, err)
	}
}

func testIgnored(t *testing.T, h Harness) {
	if h.Ping != nil {
		t.Run("ping", func(t *testing.T) {
			d, err := h.Forge.Parse(h.signed(h.PingType, h.Ping, nil))
			if !forge.IsPing(err) || len(d.Events) != 0 {
				t.Errorf("Parse() = %+v, %v, want a ping", d, err)
			}
		})
	}
	t.Run("unhandled", func(t *testing.T) {
		d, err := h.Forge.Parse(h.signed(h.UnhandledType, h.Unhandled, nil))
		if _, ok := forge.IgnoredReason(err); !ok || forge.IsPing(err) || len(d.Events) != 0 {
			t.Errorf("Parse() = %+v, %v, want ignored", d, err)
		}
	})
}

func testMalformed(t *testing.T, h Harness) {
	tests := []struct {
		name string
		req  forge.Request
		skip bool
	}{
		{name: "not json", req: h.signed(h.PushType, []byte("not json"), nil)},
		{name: "not an object", req: h.signed(h.PushType, []byte("[1]"), nil)},
		{name: "empty push", req: h.signed(h.PushType, []byte("{}"), nil)},
		{name: "empty pull request", req: h.signed(h.PullRequestType, []byte("{}"), nil)},
		{name: "no event header", req: forge.Request{Header: http.Header{}, Body: h.Push}, skip: h.EventInBody},
		{name: "form without payload", req: formRequest(h, "x=1"), skip: !h.FormPayloads},
	}
	deepField := append([]byte(`{"x":`+strings.Repeat("[", forge.MaxDepth)+strings.Repeat("]", forge.MaxDepth)+`,`), bytes.TrimLeft(h.Push, " \n")[1:]...)
	for i, deep := range append(DeepNesting(), deepField) {
		tests = append(tests, struct {
			name string
			req  forge.Request
			skip bool
		}{name: fmt.Sprintf("deep nesting %d", i+1), req: h.signed(h.PushType, deep, nil)})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip {
				t.Skip("does not apply to this host")
			}
			d, err := h.Forge.Parse(tt.req)
			if !errors.Is(err, forge.ErrMalformed) || len(d.Events) != 0 {
				t.Errorf("Parse() = %+v, %v, want ErrMalformed", d, err)
			}
		})
	}
	if _, err := h.Forge.Repo(h.signed(h.PushType, []byte("[1"), nil)); !errors.Is(err, forge.ErrMalformed) {
		t.Errorf("Repo(not json) = %v, want ErrMalformed", err)
	}
	for i, deep := range DeepNesting() {
		if _, err := h.Forge.Repo(h.signed(h.PushType, deep, nil)); !errors.Is(err, forge.ErrMalformed) {
			t.Errorf("Repo(deep nesting %d) = %v, want ErrMalformed", i+1, err)
		}
	}
}

func formRequest(h Harness, body string) forge.Request {
	hdr := h.Header(h.PushType, "delivery-1")
	hdr.Set("Content-Type", "application/x-www-form-urlencoded")
	return forge.Request{Header: hdr, Body: []byte(body)}
}

func testRegistry(t *testing.T, h Harness) {
	reg, err := forge.NewRegistry(h.Forge)
	if err != nil {
		t.Fatalf("NewRegistry() = %v", err)
	}
	if f, ok := reg.Lookup(h.Forge.Name()); !ok || f != h.Forge {
		t.Errorf("Lookup(%q) = %v, %v", h.Forge.Name(), f, ok)
	}
	if _, err := forge.NewRegistry(h.Forge, h.Forge); err == nil {
		t.Error("NewRegistry() accepted the same forge twice")
	}
}
