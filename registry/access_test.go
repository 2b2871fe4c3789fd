package registry_test

import (
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
