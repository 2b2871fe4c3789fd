package forge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// VerifyHMACSHA256 checks that hexSig is the hex HMAC-SHA256 of body under at
// least one of secrets. Every secret is tried, so the time taken does not
// depend on which one matched; each comparison is constant-time. An empty
// hexSig is ErrMissingSignature; anything else that does not match, including
// an empty secrets list, is ErrBadSignature.
func VerifyHMACSHA256(body []byte, hexSig string, secrets [][]byte) error {
	if hexSig == "" {
		return ErrMissingSignature
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil || len(sig) != sha256.Size {
		return fmt.Errorf("%w: not a hex SHA-256 digest", ErrBadSignature)
	}
	if len(secrets) == 0 {
		return fmt.Errorf("%w: no secret to verify with", ErrBadSignature)
	}
	match := false
	for _, secret := range secrets {
		if len(secret) == 0 {
			continue
		}
		match = hmac.Equal(sig, SignHMACSHA256(body, secret)) || match
	}
	if !match {
		return ErrBadSignature
	}
	return nil
}

// SignHMACSHA256 returns the HMAC-SHA256 of body under secret. Tests use it to
// sign fixtures; forges use it through VerifyHMACSHA256.
func SignHMACSHA256(body, secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return m.Sum(nil)
}

// TrimAlgorithm returns the digest of a prefixed signature header value such
// as "sha256=<hex>" (X-Hub-Signature-256). An empty value, or a prefix with
// nothing after it (Gitea sends "sha256=" when the hook has no secret), is
// ErrMissingSignature; another algorithm or no prefix is ErrBadSignature.
func TrimAlgorithm(value, algorithm string) (string, error) {
	alg, digest, ok := strings.Cut(value, "=")
	switch {
	case value == "":
		return "", ErrMissingSignature
	case !ok:
		return "", fmt.Errorf("%w: want %s=<hex>", ErrBadSignature, algorithm)
	case !strings.EqualFold(alg, algorithm):
		return "", fmt.Errorf("%w: algorithm %.16q is not %s", ErrBadSignature, alg, algorithm)
	case digest == "":
		return "", ErrMissingSignature
	}
	return digest, nil
}
