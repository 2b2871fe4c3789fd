package registry

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/distribution/reference"
)

// Access is how Slipway reaches its registry: the credentials it sends and
// the CA it trusts beyond the system's. The zero Access sends no
// credentials and trusts the system's roots.
type Access struct {
	// Credentials of registry hosts; nil sends none.
	Credentials *Credentials
	// CAFile is a PEM bundle of the CA that signed the registry's
	// certificate, trusted in addition to the system's roots. With one, a
	// loopback registry is reached over HTTPS too.
	CAFile string
}

// PlainHTTP reports whether host ("localhost:5000", "127.0.0.1:5443") is
// reached over plain HTTP. It is the one rule of Slipway: a registry on a
// loopback address (localhost, 127.0.0.0/8, ::1) speaks plain HTTP unless
// a CA is configured (CAFile); every other registry speaks HTTPS.
func (a Access) PlainHTTP(host string) bool {
	return a.CAFile == "" && IsLoopback(host)
}

// IsLoopback reports whether host, with or without a port, names only
// loopback addresses: "localhost" or an IP of 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Host returns the registry host of an image reference
// ("127.0.0.1:5443/acme/web:tag" → "127.0.0.1:5443").
func Host(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	return reference.Domain(named), nil
}

// TLSConfig returns the TLS configuration of Slipway's own HTTP clients:
// the system's roots plus CAFile's certificates.
func (a Access) TLSConfig() (*tls.Config, error) {
	if a.CAFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(a.CAFile)
	if err != nil {
		return nil, fmt.Errorf("registry CA: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("registry CA %s: no PEM certificate in it", a.CAFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// Validate reports a CA file that cannot be used.
func (a Access) Validate() error {
	_, err := a.TLSConfig()
	return err
}

// RefusedError is a registry that answered 401 or 403: the credentials
// Slipway sent (or the lack of any) were refused. It names the host and
// never the credentials.
type RefusedError struct {
	// Host is the registry host that refused.
	Host string
	// Sent reports whether Slipway had credentials for Host.
	Sent bool
	// Err is what the registry or the tool answered.
	Err error
}

func (e *RefusedError) Error() string {
	msg := "registry refused credentials for " + e.Host
	if !e.Sent {
		msg += " (none configured for it)"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *RefusedError) Unwrap() error { return e.Err }

// ErrRefused matches every *RefusedError with errors.Is.
var ErrRefused = errors.New("registry refused credentials")

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// UntrustedError is a registry whose TLS certificate no trusted CA signed.
type UntrustedError struct {
	// Host is the registry host.
	Host string
	// By is who refused the certificate: "slipway", "buildkitd" or
	// "dockerd"; it says where the CA is missing.
	By string
	// Err is the TLS error.
	Err error
}

func (e *UntrustedError) Error() string {
	hint := "give its CA with -registry-ca"
	switch e.By {
	case "buildkitd":
		hint = `add its CA to buildkitd.toml: [registry."` + e.Host + `"] ca = ["/path/ca.pem"]`
	case "dockerd":
		hint = "add its CA as /etc/docker/certs.d/" + e.Host + "/ca.crt"
	}
	return "registry " + e.Host + ": TLS certificate not trusted by " + e.by() + " (" + hint + "): " + e.Err.Error()
}

func (e *UntrustedError) by() string {
	if e.By == "" {
		return "slipway"
	}
	return e.By
}

func (e *UntrustedError) Unwrap() error { return e.Err }
