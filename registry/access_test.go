package registry_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/registry"
)

// TestPlainHTTP holds the one rule deciding plain HTTP, which the builder
// and `slipway gc` both follow (they used to disagree on 127.0.0.2 and
// [::1]).
func TestPlainHTTP(t *testing.T) {
	tests := []struct {
		host string
		ca   string
		want bool
	}{
		{"localhost:5000", "", true},
		{"localhost", "", true},
		{"127.0.0.1:5000", "", true},
		{"127.0.0.2:5000", "", true},
		{"[::1]:5000", "", true},
		{"::1", "", true},
		{"registry.example.com", "", false},
		{"10.0.0.1:5000", "", false},
		{"localhost.example.com:5000", "", false},
		{"127.0.0.1:5443", "ca.pem", false},
		{"localhost:5443", "ca.pem", false},
	}
	for _, tt := range tests {
		if got := (registry.Access{CAFile: tt.ca}).PlainHTTP(tt.host); got != tt.want {
			t.Errorf("PlainHTTP(%q) with CA %q = %v, want %v", tt.host, tt.ca, got, tt.want)
		}
	}
}

// TestCredentialHidesSecret prints a Credential every usual way: the
// password and the identity token never show.
func TestCredentialHidesSecret(t *testing.T) {
	c := registry.Credential{Username: "ci", Password: "pw-secret", IdentityToken: "tok-secret"}
	b, err := json.Marshal(struct{ C registry.Credential }{c})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), string(b)} {
		if strings.Contains(s, "secret") || !strings.Contains(s, "ci:***") {
			t.Errorf("printed as %q; want ci:*** without the secrets", s)
		}
	}
}
