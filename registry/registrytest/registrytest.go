// Package registrytest starts a private CNCF Distribution registry for a
// test: Debian's docker-registry binary with htpasswd authentication and TLS
// under a CA the test makes, on a free loopback port, stopped when the test
// ends. It never touches the shared registry of scripts/setup.sh.
//
// HTTP/2 is disabled: with it, Distribution 2.8 answered some of
// buildkitd's blob uploads "provided digest did not match uploaded
// content" under load (seen in 2 of about 8 benchmark runs), which is the
// registry's fault and not what the tests are about.
//
// A missing binary skips the test, except in CI (CI=true), where it fails it.
package registrytest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/slipway-dev/slipway/buildkit/buildkittest"
	"github.com/slipway-dev/slipway/internal/testport"
)

// Binary is the Distribution registry Debian's docker-registry package
// installs.
const Binary = "/usr/bin/docker-registry"

// Private is a running private registry.
type Private struct {
	// Host is "127.0.0.1:<port>".
	Host string
	// CAFile is the PEM certificate of the CA that signed the registry's
	// certificate; CAPEM its content.
	CAFile string
	CAPEM  []byte
	// User and Password are the one account of its htpasswd file.
	User     string
	Password string
	// Dir holds the registry's files (config, certificates, storage).
	Dir    string
	ca     *CA
	tokens *TokenService // nil: htpasswd
}

// MustPrivate starts a registry that requires User and Password over TLS
// signed by CAFile, and waits until it answers.
func MustPrivate(tb testing.TB) *Private {
	tb.Helper()
	p, _ := mustStart(tb, false)
	return p
}

// mustStart starts the registry with htpasswd, or with a token service.
func mustStart(tb testing.TB, token bool) (*Private, *TokenService) {
	tb.Helper()
	if _, err := os.Stat(Binary); err != nil {
		buildkittest.Missing(tb, "distribution registry %s: %v (apt-get install docker-registry)", Binary, err)
	}
	dir := tb.TempDir()
	p := &Private{Dir: dir, User: "slipway-" + RandomHex(3), Password: "pw-" + RandomHex(12)}
	ca := MustCA(tb, dir, "slipway test registry CA")
	p.CAFile, p.CAPEM, p.ca = ca.File, ca.PEM, ca
	certFile, keyFile := ca.MustServerCert(tb, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte(p.Password), bcrypt.MinCost)
	if err != nil {
		tb.Fatal(err)
	}
	htpasswd := filepath.Join(dir, "htpasswd")
	mustWrite(tb, htpasswd, p.User+":"+string(hash)+"\n")
	auth := fmt.Sprintf("auth:\n  htpasswd:\n    realm: slipway-test\n    path: %s\n", htpasswd)
	var ts *TokenService
	if token {
		var bundle string
		ts, bundle = mustTokenService(tb, p)
		auth = tokenAuthConfig(ts, bundle)
		p.tokens = ts
	}
	p.Host = freeAddr(tb)
	config := filepath.Join(dir, "config.yml")
	mustWrite(tb, config, fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  http2:
    disabled: true
  tls:
    certificate: %s
    key: %s
%s`, filepath.Join(dir, "data"), p.Host, certFile, keyFile, auth))
	cmd := exec.Command(Binary, "serve", config)
	logFile, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", Binary, err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
	})
	p.waitReady(tb)
	return p, ts
}

// waitReady waits until the registry answers GET /v2/ with 401 over TLS.
func (p *Private) waitReady(tb testing.TB) {
	tb.Helper()
	c := p.client()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := c.Get("https://" + p.Host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return
			}
			err = fmt.Errorf("GET /v2/ answered %s, want 401", resp.Status)
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(p.Dir, "registry.log"))
			tb.Fatalf("registry at %s never answered: %v\n%s", p.Host, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// RandomHex returns 2n random hex digits.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func mustWrite(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
}

// freeAddr returns a loopback address nothing listens on (testport).
func freeAddr(tb testing.TB) string {
	tb.Helper()
	return testport.Addr(tb)
}
