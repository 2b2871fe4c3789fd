package github

import (
	"fmt"
	"net/http"

	"github.com/slipway-dev/slipway/forge"
)

// verify checks the X-Hub-Signature-256 header of a delivery against body (the
// raw request body, which is what GitHub signs, form-encoded or not).
func verify(h http.Header, body []byte, secrets [][]byte) error {
	value := h.Get(headerSignature)
	if value == "" && h.Get(headerSHA1) != "" {
		return fmt.Errorf("%w: only the SHA-1 %s was sent, %s is required",
			forge.ErrMissingSignature, headerSHA1, headerSignature)
	}
	digest, err := forge.TrimAlgorithm(value, "sha256")
	if err != nil {
		return fmt.Errorf("verify %s: %w", headerSignature, err)
	}
	if err := forge.VerifyHMACSHA256(body, digest, secrets); err != nil {
		return fmt.Errorf("verify %s: %w", headerSignature, err)
	}
	return nil
}
