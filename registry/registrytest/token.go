package registrytest

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/internal/testca"
)

// TokenService is the token service of a registry started by
// MustPrivateToken: it checks User and Password by HTTP basic and issues
// the ES256 tokens (Docker token protocol) the registry verifies.
type TokenService struct {
	// URL is its realm, "https://127.0.0.1:<port>/token".
	URL string
	// Issued counts the tokens it gave out; Refused the requests it turned
	// away.
	Issued, Refused atomic.Int64
	key             *ecdsa.PrivateKey
	certDER         []byte
	user, password  string
}

const (
	tokenIssuer  = "slipway-test-issuer"
	tokenService = "slipway-test-registry"
)

// MustPrivateToken is MustPrivate with bearer-token authentication instead
// of htpasswd: the registry sends clients to a token service of the test's
// own (in this process, TLS under the same CA).
func MustPrivateToken(tb testing.TB) (*Private, *TokenService) {
	tb.Helper()
	return mustStart(tb, true)
}

// mustTokenService starts the token service for p and writes the
// certificate the registry trusts its tokens by.
func mustTokenService(tb testing.TB, p *Private) (ts *TokenService, bundle string) {
	tb.Helper()
	signer := testca.MustNew(tb, "slipway test token signer")
	bundle = filepath.Join(p.Dir, "token-signer.pem")
	testca.MustWrite(tb, bundle, signer.PEM)
	ts = &TokenService{key: signer.Key, certDER: signer.Cert.Raw, user: p.User, password: p.Password}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(ts.serve))
	cert := p.ca.IssueNow(tb, serverNames...).TLS(tb)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	ts.URL = srv.URL + "/token"
	return ts, bundle
}

// serve answers GET /token?service=&scope= for User and Password.
func (ts *TokenService) serve(w http.ResponseWriter, r *http.Request) {
	user, pw, ok := r.BasicAuth()
	if !ok || user != ts.user || pw != ts.password {
		ts.Refused.Add(1)
		http.Error(w, "bad credentials", http.StatusUnauthorized)
		return
	}
	var access []map[string]any
	for _, scope := range r.URL.Query()["scope"] {
		parts := strings.Split(scope, ":")
		if len(parts) == 3 {
			access = append(access, map[string]any{"type": parts[0], "name": parts[1], "actions": strings.Split(parts[2], ",")})
		}
	}
	token, err := ts.sign(user, access)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ts.Issued.Add(1)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token": token, "expires_in": 300})
}

// sign makes an ES256 JWT the registry accepts: its x5c header carries the
// signing certificate, which the registry's rootcertbundle holds.
func (ts *TokenService) sign(subject string, access []map[string]any) (string, error) {
	now := time.Now()
	header, _ := json.Marshal(map[string]any{"typ": "JWT", "alg": "ES256", "x5c": []string{base64.StdEncoding.EncodeToString(ts.certDER)}})
	claims, _ := json.Marshal(map[string]any{
		"iss": tokenIssuer, "sub": subject, "aud": tokenService,
		"exp": now.Add(5 * time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "iat": now.Unix(),
		"jti": RandomHex(8), "access": access,
	})
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signed))
	r, s, err := ecdsa.Sign(rand.Reader, ts.key, sum[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signed + "." + enc.EncodeToString(sig), nil
}

// tokenAuthConfig is the registry configuration's auth section for ts.
func tokenAuthConfig(ts *TokenService, bundle string) string {
	return fmt.Sprintf(`auth:
  token:
    realm: %s
    service: %s
    issuer: %s
    rootcertbundle: %s
`, ts.URL, tokenService, tokenIssuer, bundle)
}
