package proxy_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/proxy"
	"github.com/slipway-dev/slipway/proxy/acmetest"
)

// MustListen listens on a free loopback port.
func MustListen(tb testing.TB) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return ln
}

// MustServe serves h on ln (over TLS with cfg when set) until the test
// ends or stop is called, logging to logs.
func MustServe(tb testing.TB, ln net.Listener, h http.Handler, cfg *tls.Config, logs io.Writer) (stop func()) {
	tb.Helper()
	l := zerolog.New(logs).Level(zerolog.InfoLevel)
	ctx, cancel := context.WithCancel(l.WithContext(context.Background()))
	srv := &proxy.Server{Handler: h, TLSConfig: cfg, ShutdownTimeout: time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				tb.Errorf("serve: %v", err)
			}
		})
	}
	tb.Cleanup(stop)
	return stop
}

// tlsClient is a client configuration trusting roots only.
func tlsClient(roots *x509.CertPool, serverName string) *tls.Config {
	return &tls.Config{RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS12}
}

// client returns an HTTP client sending every request to addr, verifying
// TLS against roots, and never following redirects.
func client(addr string, roots *x509.CertPool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
			TLSClientConfig:   tlsClient(roots, ""),
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// reply is what fetch read of a response.
type reply struct {
	StatusCode int
	Header     http.Header
	TLS        *tls.ConnectionState
}

// fetch sends GET url to addr and returns the response and its body.
func fetch(tb testing.TB, addr, url string, roots *x509.CertPool) (*reply, string, error) {
	tb.Helper()
	resp, err := client(addr, roots).Get(url)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return &reply{StatusCode: resp.StatusCode, Header: resp.Header, TLS: resp.TLS}, string(b), err
}

// handshake dials addr and shakes hands with server name host, verifying
// against roots.
func handshake(addr, host string, roots *x509.CertPool) (*tls.ConnectionState, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, tlsClient(roots, host))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	st := conn.ConnectionState()
	return &st, nil
}

// filesFront is a proxy serving acme/shop's web over HTTP and HTTPS with
// certificates from files.
type filesFront struct {
	HTTP, HTTPS string
	Roots       *x509.CertPool
}

func mustFilesFront(t testing.TB, hsts time.Duration) filesFront {
	t.Helper()
	web := MustBackend(t, "web")
	ca := acmetest.MustCA(t)
	dir := t.TempDir()
	ca.IssueNow(t, "shop.example.com").Write(t, dir, "shop.example.com")
	ca.IssueNow(t, "*.apps.example.com").Write(t, dir, "_.apps.example.com")
	files, err := proxy.CertFilesInDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := proxy.LoadCertificates(files, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p := proxy.New(newStub(map[string][]string{"web.production": {web}, "web.staging": {web}}), "", proxy.WithHosts(proxy.StaticHosts{
		Hosts: map[string]proxy.Route{
			"shop.example.com":     {Repo: "acme/shop", Env: "production", Service: "web"},
			"web.apps.example.com": {Repo: "acme/shop", Env: "production", Service: "web"},
			"plain.example.com":    {Repo: "acme/shop", Env: "production", Service: "web"},
		},
		Labels: map[string]string{"shop": "acme/shop"},
	}))
	httpLn, httpsLn := MustListen(t), MustListen(t)
	_, port, _ := net.SplitHostPort(httpsLn.Addr().String())
	front := &proxy.HTTPS{Files: certs, Port: port, HSTS: hsts}
	MustServe(t, httpLn, front.ServeHTTP(p), nil, io.Discard)
	MustServe(t, httpsLn, front.ServeHTTPS(p), front.TLSConfig(), io.Discard)
	return filesFront{HTTP: httpLn.Addr().String(), HTTPS: httpsLn.Addr().String(), Roots: ca.Pool}
}

func TestHTTPSFromFiles(t *testing.T) {
	f := mustFilesFront(t, 0)
	for _, host := range []string{"shop.example.com", "web.apps.example.com"} {
		resp, body, err := fetch(t, f.HTTPS, "https://"+host+"/x", f.Roots)
		if err != nil {
			t.Fatalf("GET https://%s: %v", host, err)
		}
		if resp.StatusCode != 200 || !strings.HasPrefix(body, "web host="+host) {
			t.Errorf("GET https://%s = %d %q, want 200 from web", host, resp.StatusCode, body)
		}
		if got := resp.Header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("HSTS %q without -hsts", got)
		}
	}
	// A name no file covers: the handshake is refused.
	for _, host := range []string{"plain.example.com", "web.staging.shop.localhost", "a.b.apps.example.com"} {
		if _, err := handshake(f.HTTPS, host, f.Roots); err == nil {
			t.Errorf("handshake for %s succeeded, want refused", host)
		}
	}
}

func TestHTTPRedirectsToHTTPS(t *testing.T) {
	f := mustFilesFront(t, 0)
	_, port, _ := net.SplitHostPort(f.HTTPS)
	tests := []struct {
		url          string
		wantCode     int
		wantLocation string
		wantBody     string
	}{
		{"http://shop.example.com/a?b=c", 308, "https://shop.example.com:" + port + "/a?b=c", ""},
		{"http://Web.Apps.Example.com:8080/", 308, "https://web.apps.example.com:" + port + "/", ""},
		{"http://plain.example.com/", 200, "", "web host=plain.example.com"},
		{"http://web.staging.shop.localhost/", 200, "", "web host=web.staging.shop.localhost"},
		// The challenge path of a host without ACME is proxied like any other.
		{"http://shop.example.com/.well-known/acme-challenge/x", 308, "https://shop.example.com:" + port + "/.well-known/acme-challenge/x", ""},
	}
	for _, tt := range tests {
		resp, body, err := fetch(t, f.HTTP, tt.url, nil)
		if err != nil {
			t.Fatalf("GET %s: %v", tt.url, err)
		}
		if resp.StatusCode != tt.wantCode || resp.Header.Get("Location") != tt.wantLocation || !strings.HasPrefix(body, tt.wantBody) {
			t.Errorf("GET %s = %d Location %q %q, want %d %q %q", tt.url, resp.StatusCode, resp.Header.Get("Location"), body, tt.wantCode, tt.wantLocation, tt.wantBody)
		}
	}
}

func TestHSTS(t *testing.T) {
	f := mustFilesFront(t, 365*24*time.Hour)
	resp, _, err := fetch(t, f.HTTPS, "https://shop.example.com/", f.Roots)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resp.Header.Get("Strict-Transport-Security"), "max-age=31536000"; got != want {
		t.Errorf("HSTS over HTTPS = %q, want %q", got, want)
	}
	resp, _, err = fetch(t, f.HTTP, "http://plain.example.com/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("HSTS over plain HTTP = %q, want none", got)
	}
}

func TestHTTPSRefusesHostOtherThanServerName(t *testing.T) {
	f := mustFilesFront(t, 0)
	req, _ := http.NewRequest(http.MethodGet, "https://shop.example.com/", nil)
	req.Host = "web.staging.shop.localhost" // served in clear only
	resp, err := client(f.HTTPS, f.Roots).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("Host without TLS over HTTPS = %d, want 421", resp.StatusCode)
	}
}

// errorsContain reports whether err's message holds every part.
func errorsContain(err error, parts ...string) bool {
	if err == nil {
		return false
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			return false
		}
	}
	return true
}
