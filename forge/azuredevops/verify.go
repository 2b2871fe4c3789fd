package azuredevops

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/slipway-dev/slipway/forge"
)

// verify checks the Basic auth credentials of a delivery: a secret with a
// colon is compared with "user:password", any other with the password. Every
// secret is tried and both sides are hashed before the constant-time
// comparison.
func verify(h http.Header, secrets [][]byte) error {
	auth := h.Get("Authorization")
	if auth == "" {
		return fmt.Errorf("verify basic auth: %w", forge.ErrMissingSignature)
	}
	scheme, b64, _ := strings.Cut(auth, " ")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	user, pass, ok := strings.Cut(string(raw), ":")
	switch {
	case !strings.EqualFold(scheme, "Basic") || err != nil || !ok:
		return fmt.Errorf("verify basic auth: %w: not Basic credentials", forge.ErrBadSignature)
	case len(secrets) == 0:
		return fmt.Errorf("verify basic auth: %w: no secret to verify with", forge.ErrBadSignature)
	}
	full, password := sha256.Sum256([]byte(user+":"+pass)), sha256.Sum256([]byte(pass))
	match := 0
	for _, secret := range secrets {
		if len(secret) == 0 {
			continue
		}
		got := password
		if bytes.IndexByte(secret, ':') >= 0 {
			got = full
		}
		want := sha256.Sum256(secret)
		match |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	if match != 1 || pass == "" {
		return fmt.Errorf("verify basic auth: %w", forge.ErrBadSignature)
	}
	return nil
}
