package forgetest

import (
	"encoding/hex"
	"errors"
	"net/http"
	"testing"

	"github.com/slipway-dev/slipway/forge"
)

// VerifySHA256Header checks the signature verification of a forge whose host
// signs body with "sha256=<hex HMAC-SHA256>" in header: a valid signature,
// a rotated secret, a wrong secret, none, another algorithm's prefix, a SHA-1
// digest and a digest without prefix.
func VerifySHA256Header(t *testing.T, f forge.Forge, header string, body []byte) {
	t.Helper()
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
		{"sha512 prefix", "sha512=" + sig, [][]byte{good}, forge.ErrBadSignature},
		{"sha1 digest", "sha256=" + hex.EncodeToString(forge.SignHMACSHA1(body, good)), [][]byte{good}, forge.ErrBadSignature},
		{"no prefix", sig, [][]byte{good}, forge.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.value != "" {
				h.Set(header, tt.value)
			}
			err := f.Verify(forge.Request{Header: h, Body: body}, tt.secrets)
			if tt.wantErr == nil && err != nil || !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
