package gitea

import (
	"fmt"
	"net/http"

	"github.com/slipway-dev/slipway/forge"
)

// verify checks a delivery's signature against payload (the JSON document,
// which is what Gitea signs). The host-specific hex headers are preferred;
// X-Hub-Signature-256 is the fallback.
func verify(h http.Header, payload []byte, secrets [][]byte) error {
	digest := forge.FirstHeader(h, signatureHeaders...)
	if digest == "" {
		var err error
		if digest, err = forge.TrimAlgorithm(h.Get(headerHubSignature), "sha256"); err != nil {
			return fmt.Errorf("verify signature: %w", err)
		}
	}
	if err := forge.VerifyHMACSHA256(payload, digest, secrets); err != nil {
		return fmt.Errorf("verify signature: %w", err)
	}
	return nil
}
