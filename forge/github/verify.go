package github

import (
	"fmt"
	"net/http"

	"github.com/slipway-dev/slipway/forge"
)

// verify checks the signature headers of a delivery against body (the raw
// request body, which is what GitHub signs, form-encoded or not). The SHA-1
// header is used only when allowSHA1 is set and no SHA-256 header was sent.
func verify(h http.Header, body []byte, secrets [][]byte, allowSHA1 bool) error {
	value := h.Get(headerSignature)
	if value == "" && h.Get(headerSHA1) != "" {
		if allowSHA1 {
			return verifySHA1(h.Get(headerSHA1), body, secrets)
		}
		return fmt.Errorf("%w: only the SHA-1 %s was sent, %s is required",
			forge.ErrMissingSignature, headerSHA1, headerSignature)
	}
	return forge.VerifySHA256Header(h, headerSignature, body, secrets)
}

func verifySHA1(value string, body []byte, secrets [][]byte) error {
	digest, err := forge.TrimAlgorithm(value, "sha1")
	if err != nil {
		return fmt.Errorf("verify %s: %w", headerSHA1, err)
	}
	if err := forge.VerifyHMACSHA1(body, digest, secrets); err != nil {
		return fmt.Errorf("verify %s: %w", headerSHA1, err)
	}
	return nil
}
