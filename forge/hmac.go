package forge

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"strings"
)

// VerifyHMACSHA256 checks that hexSig is the hex HMAC-SHA256 of body under at
// least one of secrets. Every secret is tried, so the time taken does not
// depend on which one matched; each comparison is constant-time. An empty
// hexSig is ErrMissingSignature; anything else that does not match, including
// an empty secrets list, is ErrBadSignature.
func VerifyHMACSHA256(body []byte, hexSig string, secrets [][]byte) error {
	return verifyHMAC(sha256.New, body, hexSig, secrets)
}

// VerifyHMACSHA1 is VerifyHMACSHA256 with SHA-1, for hosts that only send the
// legacy signature. Forges accept it only when the operator enabled it.
func VerifyHMACSHA1(body []byte, hexSig string, secrets [][]byte) error {
	return verifyHMAC(sha1.New, body, hexSig, secrets)
}

func verifyHMAC(h func() hash.Hash, body []byte, hexSig string, secrets [][]byte) error {
	if hexSig == "" {
		return ErrMissingSignature
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil || len(sig) != h().Size() {
		return fmt.Errorf("%w: not a hex digest of the expected length", ErrBadSignature)
	}
	if len(secrets) == 0 {
		return fmt.Errorf("%w: no secret to verify with", ErrBadSignature)
	}
	match := false
	for _, secret := range secrets {
		if len(secret) == 0 {
			continue
		}
		match = hmac.Equal(sig, signHMAC(h, body, secret)) || match
	}
	if !match {
		return ErrBadSignature
	}
	return nil
}

// SignHMACSHA256 returns the HMAC-SHA256 of body under secret. Tests use it to
// sign fixtures; forges use it through VerifyHMACSHA256.
func SignHMACSHA256(body, secret []byte) []byte {
	return signHMAC(sha256.New, body, secret)
}

// SignHMACSHA1 returns the HMAC-SHA1 of body under secret.
func SignHMACSHA1(body, secret []byte) []byte {
	return signHMAC(sha1.New, body, secret)
}

func signHMAC(h func() hash.Hash, body, secret []byte) []byte {
	m := hmac.New(h, secret)
	m.Write(body)
	return m.Sum(nil)
}

// VerifyToken checks a shared secret sent as is (GitLab's X-Gitlab-Token, the
// password of Basic auth) against each of secrets. Both sides are hashed
// before the constant-time comparison, so neither the secret's content nor
// its length leaks through timing; every secret is tried. An empty token is
// ErrMissingSignature.
func VerifyToken(token string, secrets [][]byte) error {
	if token == "" {
		return ErrMissingSignature
	}
	if len(secrets) == 0 {
		return fmt.Errorf("%w: no secret to verify with", ErrBadSignature)
	}
	got := sha256.Sum256([]byte(token))
	match := 0
	for _, secret := range secrets {
		if len(secret) == 0 {
			continue
		}
		want := sha256.Sum256(secret)
		match |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	if match != 1 {
		return ErrBadSignature
	}
	return nil
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

// VerifySHA256Header checks the "sha256=<hex>" HMAC-SHA256 signature of
// body in header h[name] (X-Hub-Signature-256 and the hosts that copied it)
// against secrets; its errors are TrimAlgorithm's and VerifyHMACSHA256's,
// naming the header.
func VerifySHA256Header(h http.Header, name string, body []byte, secrets [][]byte) error {
	digest, err := TrimAlgorithm(h.Get(name), "sha256")
	if err == nil {
		err = VerifyHMACSHA256(body, digest, secrets)
	}
	if err != nil {
		return fmt.Errorf("verify %s: %w", name, err)
	}
	return nil
}
