package gitlab

import (
	"crypto/hmac"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/forge"
)

// timestampTolerance is how far a Standard Webhooks timestamp may be from the
// receiver's clock, either way.
const timestampTolerance = 5 * time.Minute

// verify checks the token and the signature a delivery carries; at least one
// must be present, and each present must match one of secrets.
func verify(h http.Header, body []byte, secrets [][]byte, now time.Time) error {
	token, sig := h.Get(headerToken), h.Get(headerSignature)
	if token == "" && sig == "" {
		return fmt.Errorf("verify: neither %s nor %s: %w", headerToken, headerSignature, forge.ErrMissingSignature)
	}
	if token != "" {
		if err := forge.VerifyToken(token, secrets); err != nil {
			return fmt.Errorf("verify %s: %w", headerToken, err)
		}
	}
	if sig != "" {
		if err := verifySignature(h, sig, body, secrets, now); err != nil {
			return fmt.Errorf("verify %s: %w", headerSignature, err)
		}
	}
	return nil
}

// verifySignature checks a Standard Webhooks signature header: space
// separated "v1,<base64>" values, any of which may match.
func verifySignature(h http.Header, header string, body []byte, secrets [][]byte, now time.Time) error {
	id, ts := h.Get(headerWebhookID), h.Get(headerTimestamp)
	sent, err := strconv.ParseInt(ts, 10, 64)
	switch {
	case id == "" || err != nil:
		return fmt.Errorf("%w: %s or %s missing or not a number", forge.ErrBadSignature, headerWebhookID, headerTimestamp)
	case now.Sub(time.Unix(sent, 0)).Abs() > timestampTolerance:
		return fmt.Errorf("%w: timestamp %d is more than %s away", forge.ErrBadSignature, sent, timestampTolerance)
	case len(secrets) == 0:
		return fmt.Errorf("%w: no secret to verify with", forge.ErrBadSignature)
	}
	var sigs [][]byte
	for _, v := range strings.Fields(header) {
		if b64, ok := strings.CutPrefix(v, "v1,"); ok {
			if sig, err := base64.StdEncoding.DecodeString(b64); err == nil {
				sigs = append(sigs, sig)
			}
		}
	}
	if len(sigs) == 0 {
		return fmt.Errorf("%w: no v1 signature", forge.ErrBadSignature)
	}
	content := append([]byte(id+"."+ts+"."), body...)
	match := false
	for _, secret := range secrets {
		if len(secret) == 0 {
			continue
		}
		want := forge.SignHMACSHA256(content, signingKey(secret))
		for _, sig := range sigs {
			match = hmac.Equal(sig, want) || match
		}
	}
	if !match {
		return forge.ErrBadSignature
	}
	return nil
}

// signingKey is the HMAC key of a secret: a "whsec_" secret is base64 as
// Standard Webhooks specifies, any other is used as is.
func signingKey(secret []byte) []byte {
	if b64, ok := strings.CutPrefix(string(secret), "whsec_"); ok {
		if key, err := base64.StdEncoding.DecodeString(b64); err == nil {
			return key
		}
	}
	return secret
}
