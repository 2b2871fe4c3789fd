package forge

import (
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestVerifyHMACSHA256(t *testing.T) {
	body := []byte(`{"ref":"refs/heads/main"}`)
	a, b := []byte("a"), []byte("b")
	sigA := hex.EncodeToString(SignHMACSHA256(body, a))
	tests := []struct {
		name    string
		sig     string
		secrets [][]byte
		wantErr error
	}{
		{"match", sigA, [][]byte{a}, nil},
		{"second of two", sigA, [][]byte{b, a}, nil},
		{"upper-case hex", strings.ToUpper(sigA), [][]byte{a}, nil},
		{"no match", sigA, [][]byte{b}, ErrBadSignature},
		{"empty secret skipped", sigA, [][]byte{nil}, ErrBadSignature},
		{"no secrets", sigA, nil, ErrBadSignature},
		{"missing", "", [][]byte{a}, ErrMissingSignature},
		{"not hex", "xyz", [][]byte{a}, ErrBadSignature},
		{"sha1 length", sigA[:40], [][]byte{a}, ErrBadSignature},
	}
	sha1A := hex.EncodeToString(SignHMACSHA1(body, a))
	if err := VerifyHMACSHA1(body, sha1A, [][]byte{b, a}); err != nil {
		t.Errorf("VerifyHMACSHA1() = %v", err)
	}
	if err := VerifyHMACSHA1(body, sha1A, [][]byte{b}); !errors.Is(err, ErrBadSignature) {
		t.Errorf("VerifyHMACSHA1(wrong secret) = %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyHMACSHA256(body, tt.sig, tt.secrets)
			if tt.wantErr == nil && err != nil || !errors.Is(err, tt.wantErr) {
				t.Errorf("VerifyHMACSHA256() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestTrimAlgorithm(t *testing.T) {
	tests := []struct {
		value, want string
		wantErr     error
	}{
		{"sha256=abc", "abc", nil},
		{"SHA256=abc", "abc", nil},
		{"", "", ErrMissingSignature},
		{"sha256=", "", ErrMissingSignature},
		{"sha1=abc", "", ErrBadSignature},
		{"abc", "", ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := TrimAlgorithm(tt.value, "sha256")
			if got != tt.want || tt.wantErr == nil && err != nil || !errors.Is(err, tt.wantErr) {
				t.Errorf("TrimAlgorithm(%q) = %q, %v, want %q, %v", tt.value, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestStripCredentials(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"https://github.com/a/b.git", "https://github.com/a/b.git", false},
		{"https://x-access-token:ghs_x@github.com/a/b.git", "https://github.com/a/b.git", false},
		{"https://oauth2@gitea.example/a/b.git?token=t#frag", "https://gitea.example/a/b.git", false},
		{"ssh://git@gitea.example:2222/a/b.git", "ssh://gitea.example:2222/a/b.git", false},
		{"HTTP://Host/a.git", "http://Host/a.git", false},
		{"", "", true},
		{"file:///etc/passwd", "", true},
		{"git@github.com:a/b.git", "", true},
		{"/a/b.git", "", true},
		{"https://[::1", "", true},
		{"ssh://x@-oProxyCommand=sh/a/b.git", "", true},
		{"ssh://-oProxyCommand=x/a/b.git", "", true},
		{"git://-x:9418/a.git", "", true},
		{"https://a\x01b/a.git", "", true},
		{"ssh://git@host-with-dash.example/a-b/-c.git", "ssh://host-with-dash.example/a-b/-c.git", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := StripCredentials(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("StripCredentials(%q) = %q, %v, want %q (error %v)", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v is not ErrMalformed", err)
			}
		})
	}
}

func TestIsSHA(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"366701fde727cb7a9e7f21eb88264f59f6f9b89c", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("0", 40), true},
		{"366701FDE727CB7A9E7F21EB88264F59F6F9B89C", false},
		{"366701f", false},
		{strings.Repeat("g", 40), false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsSHA(tt.in); got != tt.want {
			t.Errorf("IsSHA(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestPayload(t *testing.T) {
	tests := []struct {
		name, contentType, body, want string
		wantErr                       error
	}{
		{"json", "application/json", `{"a":1}`, `{"a":1}`, nil},
		{"no content type", "", `{"a":1}`, `{"a":1}`, nil},
		{"form", "application/x-www-form-urlencoded", "payload=%7B%22a%22%3A1%7D", `{"a":1}`, nil},
		{"form with charset", "application/x-www-form-urlencoded; charset=utf-8", "payload=%7B%7D", `{}`, nil},
		{"form without payload", "application/x-www-form-urlencoded", "other=1", "", ErrMalformed},
		{"bad form", "application/x-www-form-urlencoded", "payload=%zz", "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("Content-Type", tt.contentType)
			got, err := Payload(Request{Header: h, Body: []byte(tt.body)})
			if string(got) != tt.want || tt.wantErr == nil && err != nil || !errors.Is(err, tt.wantErr) {
				t.Errorf("Payload() = %q, %v, want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestRepoFullName(t *testing.T) {
	tests := []struct {
		name, payload, want string
		wantErr             error
	}{
		{"repository", `{"repository":{"full_name":"a/b"}}`, "a/b", nil},
		{"organisation hook", `{"zen":"x","organization":{}}`, "", nil},
		{"not json", `<x>`, "", ErrMalformed},
		{"wrong type", `{"repository":{"full_name":1}}`, "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RepoFullName([]byte(tt.payload))
			if got != tt.want || tt.wantErr == nil && err != nil || !errors.Is(err, tt.wantErr) {
				t.Errorf("RepoFullName() = %q, %v, want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// namedForge is a Forge that only has a name, for registry tests.
type namedForge struct {
	Forge
	name    string
	aliases []string
}

func (f namedForge) Name() string      { return f.name }
func (f namedForge) Aliases() []string { return f.aliases }

func TestRegistry(t *testing.T) {
	gh := namedForge{name: "github"}
	gt := namedForge{name: "gitea", aliases: []string{"forgejo", "gogs"}}
	reg, err := NewRegistry(gh, gt)
	if err != nil {
		t.Fatalf("NewRegistry() = %v", err)
	}
	if got, want := strings.Join(reg.Names(), ","), "forgejo,gitea,github,gogs"; got != want {
		t.Errorf("Names() = %s, want %s", got, want)
	}
	if f, ok := reg.Lookup("forgejo"); !ok || f.Name() != "gitea" {
		t.Errorf("Lookup(forgejo) = %v, %v", f, ok)
	}
	if _, ok := reg.Lookup("bitbucket"); ok {
		t.Error("Lookup(bitbucket) found a forge")
	}
	if _, err := NewRegistry(gt, namedForge{name: "gogs"}); err == nil {
		t.Error("NewRegistry() accepted a name claimed twice")
	}
	if _, err := NewRegistry(namedForge{}); err == nil {
		t.Error("NewRegistry() accepted an empty name")
	}
}
