package proxy_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/proxy"
	"github.com/slipway-dev/slipway/proxy/acmetest"
)

// acmeFront is a proxy whose claimed hosts get their certificates by ACME.
type acmeFront struct {
	HTTP, HTTPS string
	ACME        *proxy.ACME
	Logs        *syncBuffer
	// Stop stops the proxy and its ACME.
	Stop func()
}

// claimedHosts are the hosts the fronts' table routes: shop.example.test
// is claimed by an environment, the default hosts of acme/shop route too.
var claimedHosts = proxy.StaticHosts{
	Hosts: map[string]proxy.Route{
		"shop.example.test": {Repo: "acme/shop", Env: "production", Service: "web"},
		"blog.example.test": {Repo: "acme/shop", Env: "production", Service: "web"},
	},
	Labels: map[string]string{"shop": "acme/shop"},
}

// mustACMEFront starts a proxy on fresh loopback ports whose ACME client
// uses the CA ca returns for the proxy's HTTP port, storing under storage.
func mustACMEFront(t *testing.T, storage string, retryAfter time.Duration, ca func(httpPort int) (dir string, roots *x509.CertPool)) acmeFront {
	t.Helper()
	return mustACMEFrontWith(t, proxy.ACMEConfig{StorageDir: storage, RetryAfter: retryAfter}, ca)
}

// mustACMEFrontWith is mustACMEFront with more of the ACME settings.
func mustACMEFrontWith(t *testing.T, acfg proxy.ACMEConfig, ca func(httpPort int) (dir string, roots *x509.CertPool)) acmeFront {
	t.Helper()
	web := MustBackend(t, "web")
	httpLn, httpsLn := MustListen(t), MustListen(t)
	if acfg.HTTPAddr != "" { // the port the CA validates on
		httpLn.Close()
		var err error
		if httpLn, err = net.Listen("tcp", acfg.HTTPAddr); err != nil {
			t.Fatal(err)
		}
	}
	_, httpPort, _ := net.SplitHostPort(httpLn.Addr().String())
	var port int
	for _, c := range httpPort {
		port = port*10 + int(c-'0')
	}
	dir, roots := ca(port)
	logs := &syncBuffer{}
	ctx := zerolog.New(logs).WithContext(context.Background())
	acfg.CA, acfg.Email, acfg.Roots, acfg.HTTPAddr, acfg.IssueTimeout = dir, "ops@example.test", roots, httpLn.Addr().String(), 30*time.Second
	a, err := proxy.NewACME(ctx, acfg, proxy.Claimed(claimedHosts))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	p := proxy.New(newStub(map[string][]string{"web.production": {web}, "web.staging": {web}}), "", proxy.WithHosts(claimedHosts))
	_, port443, _ := net.SplitHostPort(httpsLn.Addr().String())
	front := &proxy.HTTPS{ACME: a, Port: port443}
	stopHTTP := MustServe(t, httpLn, front.ServeHTTP(p), nil, logs)
	stopHTTPS := MustServe(t, httpsLn, front.ServeHTTPS(p), front.TLSConfig(), logs)
	stop := func() { stopHTTP(); stopHTTPS(); a.Close() }
	return acmeFront{HTTP: httpLn.Addr().String(), HTTPS: httpsLn.Addr().String(), ACME: a, Logs: logs, Stop: stop}
}

// pebbleCA returns a ca function for mustACMEFront starting Pebble, and
// the Pebble it started once called.
func pebbleCA(t *testing.T, started **acmetest.Pebble) func(int) (string, *x509.CertPool) {
	return func(httpPort int) (string, *x509.CertPool) {
		p := acmetest.MustPebble(t, httpPort)
		*started = p
		return p.Directory, mustReadPool(t, p.ServerRootFile)
	}
}

func mustReadPool(tb testing.TB, path string) *x509.CertPool {
	tb.Helper()
	pem, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		tb.Fatalf("%s: no certificate", path)
	}
	return pool
}

func TestACMEIssuesFromPebble(t *testing.T) {
	storage := t.TempDir()
	var ca *acmetest.Pebble
	f := mustACMEFront(t, storage, time.Minute, pebbleCA(t, &ca))

	// A real handshake, the chain verified against Pebble's root: the
	// certificate is obtained during it through a real http-01 challenge
	// to the proxy's HTTP listener.
	resp, body, err := fetch(t, f.HTTPS, "https://shop.example.test/hello", ca.Roots)
	if err != nil {
		t.Fatalf("GET https://shop.example.test: %v\n%s", err, f.Logs)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "web host=shop.example.test") {
		t.Fatalf("GET https://shop.example.test = %d %q, want 200 from web", resp.StatusCode, body)
	}
	leaf := resp.TLS.PeerCertificates[0]
	if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "shop.example.test" {
		t.Errorf("certificate names %v, want shop.example.test", leaf.DNSNames)
	}
	if !strings.Contains(f.Logs.String(), "acme: certificate obtained") {
		t.Errorf("no log of the issuance:\n%s", f.Logs)
	}

	// The account and certificate keys are stored readable by their owner only.
	keys := 0
	_ = filepath.WalkDir(storage, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".key") {
			keys++
			if info, err := d.Info(); err == nil && info.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s has mode %v, want 0600", path, info.Mode().Perm())
			}
		}
		return nil
	})
	if keys < 2 {
		t.Errorf("%d keys stored under %s, want the account's and the certificate's", keys, storage)
	}

	// Plain HTTP of the claimed host redirects to HTTPS.
	resp, _, err = fetch(t, f.HTTP, "http://shop.example.test/hello", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 308 || !strings.HasPrefix(resp.Header.Get("Location"), "https://shop.example.test:") {
		t.Errorf("GET http://shop.example.test = %d %q, want 308 to https", resp.StatusCode, resp.Header.Get("Location"))
	}

	// A proxy started again on the same storage serves the stored
	// certificate without asking the CA for another.
	before := ca.Requests.Load()
	g := mustACMEFront(t, storage, time.Minute, func(int) (string, *x509.CertPool) { return ca.Directory, mustReadPool(t, ca.ServerRootFile) })
	st, err := handshake(g.HTTPS, "shop.example.test", ca.Roots)
	if err != nil {
		t.Fatalf("handshake after restart: %v", err)
	}
	if !st.PeerCertificates[0].Equal(leaf) {
		t.Errorf("after restart the proxy serves another certificate")
	}
	if got := ca.Requests.Load(); got != before {
		t.Errorf("restart asked the CA %d times, want none", got-before)
	}
}

func TestACMERenewsBeforeExpiry(t *testing.T) {
	var ca *acmetest.Pebble
	f := mustACMEFrontWith(t, proxy.ACMEConfig{StorageDir: t.TempDir(), RetryAfter: time.Minute, RenewCheck: 200 * time.Millisecond},
		func(port int) (string, *x509.CertPool) {
			ca = acmetest.MustPebble(t, port, acmetest.Validity(15*time.Second))
			return ca.Directory, mustReadPool(t, ca.ServerRootFile)
		})
	st, err := handshake(f.HTTPS, "shop.example.test", ca.Roots)
	if err != nil {
		t.Fatalf("handshake: %v\n%s", err, f.Logs)
	}
	first := st.PeerCertificates[0]
	// Renewed in the background, before it expires, and served.
	deadline := first.NotAfter
	for {
		st, err := handshake(f.HTTPS, "shop.example.test", ca.Roots)
		if err != nil {
			t.Fatalf("handshake while renewing: %v", err)
		}
		if !st.PeerCertificates[0].Equal(first) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("certificate not renewed before it expired at %s\n%s", deadline, f.Logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestACMERenewsExpiredStoredCertificate(t *testing.T) {
	storage := t.TempDir()
	var ca *acmetest.Pebble
	// No background renewal: the proxy is down while the certificate expires.
	acfg := proxy.ACMEConfig{StorageDir: storage, RetryAfter: time.Minute, RenewCheck: time.Hour}
	f := mustACMEFrontWith(t, acfg, func(port int) (string, *x509.CertPool) {
		ca = acmetest.MustPebble(t, port, acmetest.Validity(3*time.Second))
		return ca.Directory, mustReadPool(t, ca.ServerRootFile)
	})
	st, err := handshake(f.HTTPS, "shop.example.test", ca.Roots)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	first := st.PeerCertificates[0]
	f.Stop()
	for !time.Now().After(first.NotAfter.Add(time.Second)) {
		time.Sleep(100 * time.Millisecond) // until the stored certificate expired
	}
	// Started again on the same storage, CA and HTTP port.
	acfg.HTTPAddr = f.HTTP
	g := mustACMEFrontWith(t, acfg, func(int) (string, *x509.CertPool) { return ca.Directory, mustReadPool(t, ca.ServerRootFile) })
	st, err = handshake(g.HTTPS, "shop.example.test", ca.Roots)
	if err != nil {
		t.Fatalf("handshake after the stored certificate expired: %v\n%s", err, g.Logs)
	}
	if leaf := st.PeerCertificates[0]; leaf.Equal(first) || !time.Now().Before(leaf.NotAfter) {
		t.Errorf("served %v (expires %s), want a new valid certificate", leaf.SerialNumber, leaf.NotAfter)
	}
	if !strings.Contains(g.Logs.String(), "stored certificate expired; renewing it") {
		t.Errorf("the stored certificate was not renewed:\n%s", g.Logs)
	}
}

func TestACMERefusesUnclaimedHost(t *testing.T) {
	var ca *acmetest.Pebble
	f := mustACMEFront(t, t.TempDir(), time.Minute, pebbleCA(t, &ca))
	for _, host := range []string{"other.example.test", "web.staging.shop.localhost", "example.test"} {
		if _, err := handshake(f.HTTPS, host, ca.Roots); err == nil {
			t.Errorf("handshake for unclaimed %s succeeded, want refused", host)
		}
	}
	if n := ca.Requests.Load(); n != 0 {
		t.Errorf("unclaimed hosts made %d requests to the CA, want none", n)
	}
	// The default host is still served in clear.
	resp, body, err := fetch(t, f.HTTP, "http://web.staging.shop.localhost/", nil)
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(body, "web ") {
		t.Errorf("default host over HTTP: %v %v %q, want 200", err, resp, body)
	}
}

// refusingCA is an ACME "server" answering every request 503 with an ACME
// problem, counting them.
func refusingCA(t *testing.T, requests *atomic.Int64) func(int) (string, *x509.CertPool) {
	return func(int) (string, *x509.CertPool) {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]any{"type": "urn:ietf:params:acme:error:serverInternal", "detail": "down for maintenance", "status": 503})
		}))
		t.Cleanup(srv.Close)
		pool := x509.NewCertPool()
		pool.AddCert(srv.Certificate())
		return srv.URL + "/dir", pool
	}
}

func TestACMECARefuses(t *testing.T) {
	var requests atomic.Int64
	f := mustACMEFront(t, t.TempDir(), 300*time.Millisecond, refusingCA(t, &requests))

	_, err := handshake(f.HTTPS, "shop.example.test", nil)
	if err == nil {
		t.Fatal("handshake succeeded without a certificate")
	}
	first := requests.Load()
	if first == 0 {
		t.Fatal("the CA was never asked")
	}
	logs := f.Logs.String()
	if !strings.Contains(logs, `"host":"shop.example.test"`) || !strings.Contains(logs, "acme: no certificate") || !strings.Contains(logs, "503") {
		t.Errorf("no clear error logged for the refusal:\n%s", logs)
	}

	// At once again: refused without asking the CA (no retry storm).
	if _, err := handshake(f.HTTPS, "shop.example.test", nil); err == nil {
		t.Fatal("second handshake succeeded")
	}
	if got := requests.Load(); got != first {
		t.Errorf("second handshake within the pause asked the CA %d more times, want none", got-first)
	}

	// The proxy keeps serving: the claimed host's HTTP redirects (as
	// Caddy's does), the others are proxied.
	resp, body, err := fetch(t, f.HTTP, "http://web.staging.shop.localhost/", nil)
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(body, "web ") {
		t.Fatalf("default host over HTTP while the CA refuses: %v %q", err, body)
	}
	resp, _, err = fetch(t, f.HTTP, "http://shop.example.test/", nil)
	if err != nil || resp.StatusCode != 308 {
		t.Errorf("claimed host over HTTP while the CA refuses: %v %v, want 308", err, resp)
	}

	// After the pause the next handshake tries again.
	deadline := time.Now().Add(10 * time.Second)
	for requests.Load() == first && time.Now().Before(deadline) {
		_, _ = handshake(f.HTTPS, "shop.example.test", nil)
	}
	if requests.Load() == first {
		t.Error("the CA was never asked again after the pause")
	}
}

func TestACMECAUnreachable(t *testing.T) {
	dead := MustRefusingAddr(t)
	f := mustACMEFront(t, t.TempDir(), time.Minute, func(int) (string, *x509.CertPool) {
		return "https://" + dead + "/dir", nil
	})
	start := time.Now()
	if _, err := handshake(f.HTTPS, "shop.example.test", nil); err == nil {
		t.Fatal("handshake succeeded without a CA")
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("handshake took %s with the CA unreachable", d)
	}
	logs := f.Logs.String()
	if !strings.Contains(logs, "acme: no certificate") || !strings.Contains(logs, "connection refused") || !strings.Contains(logs, dead) {
		t.Errorf("no clear error logged for the unreachable CA:\n%s", logs)
	}
	resp, body, err := fetch(t, f.HTTP, "http://web.staging.shop.localhost/", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("default host over HTTP with the CA unreachable: %v %q", err, body)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
