package forgetest

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
)

// Harness describes one forge implementation to the conformance suite.
type Harness struct {
	// Forge is the implementation under test.
	Forge forge.Forge
	// Header returns the unsigned headers the host sends with a JSON
	// delivery of kind eventType whose delivery id is deliveryID.
	Header func(eventType, deliveryID string) http.Header
	// Sign adds to h the host's signature of the JSON payload under secret.
	Sign func(h http.Header, payload, secret []byte)
	// Push is the JSON payload of a push to a branch.
	Push []byte
	// PullRequest is the JSON payload of a pull request event.
	PullRequest []byte
}

// Run checks that h.Forge honours the forge.Forge contract.
func Run(t *testing.T, h Harness) {
	t.Run("Verify", func(t *testing.T) { testVerify(t, h) })
	t.Run("ParsePush", func(t *testing.T) { testParsePush(t, h) })
	t.Run("FormPayload", func(t *testing.T) { testFormPayload(t, h) })
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
	}{
		{"valid", h.signed("push", h.Push, secret), [][]byte{secret}, nil},
		{"rotated, second secret matches", h.signed("push", h.Push, secret), [][]byte{otherSecret, secret}, nil},
		{"wrong secret", h.signed("push", h.Push, otherSecret), [][]byte{secret}, forge.ErrBadSignature},
		{"tampered body", forge.Request{Header: h.signed("push", h.Push, secret).Header, Body: tampered}, [][]byte{secret}, forge.ErrBadSignature},
		{"no secrets", h.signed("push", h.Push, secret), nil, forge.ErrBadSignature},
		{"unsigned", h.signed("push", h.Push, nil), [][]byte{secret}, forge.ErrMissingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := h.Forge.Verify(tt.req, tt.secrets)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("Verify() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func testParsePush(t *testing.T, h Harness) {
	req := h.signed("push", h.Push, secret)
	d, err := h.Forge.Parse(req)
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	p, ok := d.Event.(*events.PushReceived)
	if !ok {
		t.Fatalf("Parse() event %T, want *events.PushReceived", d.Event)
	}
	if err := CheckPush(h.Forge.Name(), p); err != nil {
		t.Error(err)
	}
	if d.ID != "delivery-1" || p.DeliveryID != "delivery-1" {
		t.Errorf("delivery id %q, event delivery id %q, want delivery-1", d.ID, p.DeliveryID)
	}
	repo, err := h.Forge.Repo(req)
	if err != nil || repo != p.Repo.FullName {
		t.Errorf("Repo() = %q, %v, want %q", repo, err, p.Repo.FullName)
	}
}

func testFormPayload(t *testing.T, h Harness) {
	hdr := h.Header("push", "delivery-1")
	hdr.Set("Content-Type", "application/x-www-form-urlencoded")
	form := forge.Request{Header: hdr, Body: []byte(url.Values{"payload": {string(h.Push)}}.Encode())}
	want, err := h.Forge.Parse(h.signed("push", h.Push, nil))
	if err != nil {
		t.Fatalf("Parse(json) = %v", err)
	}
	got, err := h.Forge.Parse(form)
	if err != nil {
		t.Fatalf("Parse(form) = %v", err)
	}
	if !reflect.DeepEqual(got.Event, want.Event) {
		t.Errorf("Parse(form) = %+v, want %+v", got.Event, want.Event)
	}
	if repo, err := h.Forge.Repo(form); err != nil || repo == "" {
		t.Errorf("Repo(form) = %q, %v", repo, err)
	}
}

func testIgnored(t *testing.T, h Harness) {
	tests := []struct {
		name, eventType string
		payload         []byte
		wantReason      string
	}{
		{"ping", "ping", []byte(`{"zen":"Keep it logically awesome."}`), forge.ReasonPing},
		{"pull request", "pull_request", h.PullRequest, forge.ReasonPullRequest},
		{"tag created", "create", []byte(`{"ref":"v1","ref_type":"tag"}`), forge.ReasonTag},
		{"branch deleted", "delete", []byte(`{"ref":"x","ref_type":"branch"}`), forge.ReasonBranchDeleted},
		{"unknown kind", "star", []byte(`{}`), `event "star" is not handled`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.Forge.Parse(h.signed(tt.eventType, tt.payload, nil))
			if reason, _ := forge.IgnoredReason(err); reason != tt.wantReason {
				t.Errorf("Parse() = %v, want ignored %q", err, tt.wantReason)
			}
		})
	}
}

func testMalformed(t *testing.T, h Harness) {
	tests := []struct {
		name string
		req  forge.Request
	}{
		{"not json", h.signed("push", []byte("not json"), nil)},
		{"no event header", forge.Request{Header: http.Header{}, Body: h.Push}},
		{"push without after", h.signed("push", []byte(`{"ref":"refs/heads/main","repository":{"full_name":"a/b","clone_url":"https://h/a/b.git"}}`), nil)},
		{"form without payload", formRequest(h, "x=1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := h.Forge.Parse(tt.req); !errors.Is(err, forge.ErrMalformed) {
				t.Errorf("Parse() = %v, want ErrMalformed", err)
			}
		})
	}
	if _, err := h.Forge.Repo(h.signed("push", []byte("[1"), nil)); !errors.Is(err, forge.ErrMalformed) {
		t.Errorf("Repo(not json) = %v, want ErrMalformed", err)
	}
}

func formRequest(h Harness, body string) forge.Request {
	hdr := h.Header("push", "delivery-1")
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
