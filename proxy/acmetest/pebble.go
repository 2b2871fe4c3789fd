package acmetest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/miekg/dns"
)

// Pebble is a Pebble ACME server run in-process by a test. Its validation
// authority resolves every name to 127.0.0.1 through a DNS server of the
// test and validates http-01 challenges on the given port: real
// challenges, never PEBBLE_VA_ALWAYS_VALID.
type Pebble struct {
	// Directory is the URL of the ACME directory.
	Directory string
	// ServerRootFile holds the root of the ACME server's own HTTPS
	// certificate (-acme-ca-root).
	ServerRootFile string
	// Roots holds the root Pebble signs certificates with, fetched from
	// its management endpoint.
	Roots *x509.CertPool
	// Requests counts the requests the ACME server received.
	Requests atomic.Int64
}

// Option changes the Pebble MustPebble starts.
type Option func(*ca.Profile)

// Validity makes Pebble's certificates valid for d (90 days otherwise).
func Validity(d time.Duration) Option {
	return func(p *ca.Profile) { p.ValidityPeriod = uint64(d / time.Second) }
}

// MustPebble starts Pebble validating http-01 challenges on 127.0.0.1:httpPort.
func MustPebble(tb testing.TB, httpPort int, opts ...Option) *Pebble {
	tb.Helper()
	tb.Setenv("PEBBLE_VA_NOSLEEP", "1")
	tb.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	logs := &syncBuffer{}
	tb.Cleanup(func() {
		if tb.Failed() || os.Getenv("PEBBLE_LOG") != "" {
			tb.Logf("pebble:\n%s", logs.String())
		}
	})
	logger := log.New(logs, "pebble ", log.Lmicroseconds)
	store := db.NewMemoryStore()
	profile := ca.Profile{Description: "default"}
	for _, o := range opts {
		o(&profile)
	}
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": profile})
	validator := va.New(logger, httpPort, 0, false, MustLoopbackDNS(tb), store)
	front := wfe.New(logger, store, validator, authority, []string{"pebble.letsencrypt.org"}, false, false, 0, 0)

	serverCA := MustCA(tb)
	serverCert := serverCA.IssueNow(tb, "127.0.0.1", "localhost").TLS(tb)
	p := &Pebble{ServerRootFile: filepath.Join(tb.TempDir(), "acme-ca-root.pem")}
	MustWrite(tb, p.ServerRootFile, serverCA.PEM)
	acme := front.Handler()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Requests.Add(1)
		acme.ServeHTTP(w, r)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}}
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	p.Directory = srv.URL + wfe.DirectoryPath

	mgmt := httptest.NewUnstartedServer(front.ManagementHandler())
	mgmt.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}}
	mgmt.StartTLS()
	tb.Cleanup(mgmt.Close)
	p.Roots = mustFetchRoot(tb, mgmt.URL+wfe.RootCertPath+"0", serverCA.Pool)
	return p
}

// mustFetchRoot reads Pebble's root certificate from its management
// endpoint, trusting trust for the endpoint's HTTPS.
func mustFetchRoot(tb testing.TB, url string, trust *x509.CertPool) *x509.CertPool {
	tb.Helper()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: trust, MinVersion: tls.VersionTLS12}}, Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		tb.Fatalf("fetch pebble root: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	pool := x509.NewCertPool()
	if resp.StatusCode != 200 || !pool.AppendCertsFromPEM(body) {
		tb.Fatalf("fetch pebble root: %d %q", resp.StatusCode, body)
	}
	return pool
}

// MustLoopbackDNS starts a DNS server over TCP answering 127.0.0.1 for
// every A question and nothing for others, and returns its address.
func MustLoopbackDNS(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		for _, question := range q.Question {
			if question.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1},
					A:   net.IPv4(127, 0, 0, 1),
				})
			}
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	tb.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String()
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
