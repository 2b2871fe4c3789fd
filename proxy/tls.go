package proxy

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HTTPS decides which hosts the proxy serves over TLS, and with which
// certificate: a host covered by a certificate file (Files), else, with
// ACME, a host an environment claimed (HostTable.Lookup). The default hosts
// "<service>.<env>.<label>.<domain>" stay plain HTTP unless a file covers
// them. For those hosts the plain HTTP listener redirects to HTTPS (the
// ACME http-01 challenge path excepted), as Caddy does, whether or not a
// certificate is at hand: a host whose certificate cannot be obtained fails
// its handshakes, it is never served in clear instead.
type HTTPS struct {
	// Files are certificates read from files; nil for none.
	Files *Certificates
	// ACME obtains certificates for claimed hosts; nil for none.
	ACME *ACME
	// Port is the port of the HTTPS listener, used in redirects ("443" is
	// left out of them).
	Port string
	// HSTS, when positive, is the max-age of the Strict-Transport-Security
	// header of HTTPS responses.
	HSTS time.Duration
}

// normalHost returns host lower-case, without port or trailing dot.
func normalHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// Covers reports whether host is served over TLS.
func (s *HTTPS) Covers(host string) bool {
	host = normalHost(host)
	if _, ok := s.Files.Lookup(host); ok {
		return true
	}
	return s.ACME != nil && s.ACME.Allowed(host)
}

// GetCertificate picks the certificate of the handshake's server name; a
// name the proxy has no TLS for is refused without asking any CA.
func (s *HTTPS) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	host := normalHost(hello.ServerName)
	if host == "" {
		return nil, fmt.Errorf("no certificate: the client sent no server name")
	}
	if cert, ok := s.Files.Lookup(host); ok {
		return cert, nil
	}
	if s.ACME == nil {
		return nil, fmt.Errorf("no certificate for %q", host)
	}
	return s.ACME.Certificate(hello)
}

// TLSConfig returns the configuration of the HTTPS listener.
func (s *HTTPS) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: s.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
}

// ServeHTTPS wraps the handler of the HTTPS listener: a request for a host
// without TLS (its Host differs from a covered server name) is answered
// 421, and responses carry HSTS when configured.
func (s *HTTPS) ServeHTTPS(next http.Handler) http.Handler {
	hsts := ""
	if s.HSTS > 0 {
		hsts = "max-age=" + strconv.FormatInt(int64(s.HSTS/time.Second), 10)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.Covers(r.Host) {
			http.Error(w, fmt.Sprintf("slipway: host %q is not served over HTTPS", r.Host), http.StatusMisdirectedRequest)
			return
		}
		if hsts != "" {
			w.Header().Set("Strict-Transport-Security", hsts)
		}
		next.ServeHTTP(w, r)
	})
}

// ServeHTTP wraps the handler of the plain HTTP listener: it answers the
// ACME challenge, redirects the hosts with TLS to HTTPS (308, keeping
// method and body) and passes every other request to next.
func (s *HTTPS) ServeHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.ACME != nil && s.ACME.HandleChallenge(w, r) {
			return
		}
		if !s.Covers(r.Host) {
			next.ServeHTTP(w, r)
			return
		}
		host := normalHost(r.Host)
		if s.Port != "" && s.Port != "443" {
			host = net.JoinHostPort(host, s.Port)
		}
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}

// Claimed returns the ACME decision function of a host table: a host may
// have a certificate when an environment claimed it (HostTable.Lookup
// routes it); a default host or any other name may not.
func Claimed(t HostTable) func(host string) bool {
	p := &Proxy{hosts: t}
	return func(host string) bool {
		_, ok := p.lookupHost(normalHost(host))
		return ok
	}
}
