package azuredevops

import (
	"encoding/base64"
	"errors"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/slipway-dev/slipway/forge"
	"github.com/slipway-dev/slipway/forge/forgetest"
)

func TestConformance(t *testing.T) {
	forgetest.Run(t, forgetest.Harness{
		Forge:          New(),
		Header:         header,
		Sign:           sign,
		Push:           forgetest.MustReadFile(t, filepath.Join("testdata", "git.push.json")),
		PushDeliveryID: "03c164c2-8912-4d5e-8009-3707d5f83734",
		PullRequest:    forgetest.MustReadFile(t, filepath.Join("testdata", "git.pullrequest.created.json")),
		Unhandled:      []byte(`{"id":"x","eventType":"workitem.created","resource":{}}`),
		TokenAuth:      true,
		EventInBody:    true,
	})
}

func header(string, string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	return h
}

func sign(h http.Header, _, secret []byte) {
	h.Set("Authorization", basic("slipway", string(secret)))
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestVerify(t *testing.T) {
	good, bad := []byte("s3cret"), []byte("wrong")
	tests := []struct {
		name    string
		auth    string
		secrets [][]byte
		wantErr error
	}{
		{"password", basic("anyone", "s3cret"), [][]byte{good}, nil},
		{"rotated", basic("anyone", "s3cret"), [][]byte{bad, good}, nil},
		{"user and password", basic("slipway", "s3cret"), [][]byte{[]byte("slipway:s3cret")}, nil},
		{"wrong user", basic("mallory", "s3cret"), [][]byte{[]byte("slipway:s3cret")}, forge.ErrBadSignature},
		{"wrong password", basic("slipway", "guess"), [][]byte{good}, forge.ErrBadSignature},
		{"password is a prefix", basic("slipway", "s3cre"), [][]byte{good}, forge.ErrBadSignature},
		{"empty password", basic("s3cret", ""), [][]byte{good}, forge.ErrBadSignature},
		{"missing", "", [][]byte{good}, forge.ErrMissingSignature},
		{"bearer", "Bearer s3cret", [][]byte{good}, forge.ErrBadSignature},
		{"not base64", "Basic %%%", [][]byte{good}, forge.ErrBadSignature},
		{"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte("s3cret")), [][]byte{good}, forge.ErrBadSignature},
		{"no secrets", basic("slipway", "s3cret"), nil, forge.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.auth != "" {
				h.Set("Authorization", tt.auth)
			}
			err := New().Verify(forge.Request{Header: h}, tt.secrets)
			if tt.wantErr == nil && err != nil || !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestRepo(t *testing.T) {
	got, err := New().Repo(forge.Request{Body: forgetest.MustReadFile(t, filepath.Join("testdata", "git.push.json"))})
	if err != nil || got != "Fabrikam-Fiber-Git/Fabrikam-Fiber-Git" {
		t.Errorf("Repo() = %q, %v", got, err)
	}
}
