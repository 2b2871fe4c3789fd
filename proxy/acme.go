package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/rs/zerolog"
)

// DefaultACMECA is the ACME directory used when ACMEConfig.CA is empty:
// Let's Encrypt's production CA.
const DefaultACMECA = certmagic.LetsEncryptProductionCA

// ACMEConfig configures certificates obtained by ACME.
type ACMEConfig struct {
	// CA is the URL of the ACME directory; DefaultACMECA when empty.
	CA string
	// Email is the account's contact, optional.
	Email string
	// Roots, when set, are the only roots trusted for the CA's own HTTPS
	// (a private CA such as Pebble); the system's otherwise.
	Roots *x509.CertPool
	// StorageDir keeps the account, the certificates and their keys.
	StorageDir string
	// HTTPAddr is the proxy's plain HTTP address. The CA's http-01
	// challenge reaches it there, and the proxy answers it
	// (HandleChallenge); nothing else listens.
	HTTPAddr string
	// IssueTimeout bounds one attempt to obtain a certificate, which a
	// handshake waits for; DefaultIssueTimeout when zero.
	IssueTimeout time.Duration
	// RetryAfter is how long a host whose certificate could not be obtained
	// is refused before the next attempt, doubled after each failure up to
	// an hour; DefaultRetryAfter when zero.
	RetryAfter time.Duration
	// RenewCheck is how often certificates are checked for renewal;
	// certmagic's default (10 minutes) when zero.
	RenewCheck time.Duration
}

// DefaultIssueTimeout bounds one attempt to obtain a certificate.
const DefaultIssueTimeout = 90 * time.Second

// DefaultRetryAfter is the first pause after a failed attempt.
const DefaultRetryAfter = time.Minute

// maxRetryAfter caps the pause between attempts.
const maxRetryAfter = time.Hour

// ACME obtains and renews certificates by ACME, on demand: the first
// handshake naming a host asks the decision function (the host table: only
// a host an environment claimed) and, when allowed, loads the host's
// certificate from storage or obtains one with the http-01 challenge.
// Certificates are renewed in the background before they expire. A failed
// attempt is logged and refuses the host's handshakes, without asking the
// CA again, until its pause passed; nothing is ever asked for a host the
// decision function refused.
type ACME struct {
	cfg     ACMEConfig
	allowed func(host string) bool
	cache   *certmagic.Cache
	magic   *certmagic.Config
	issuer  *certmagic.ACMEIssuer
	log     zerolog.Logger

	closeOnce sync.Once
	mu        sync.Mutex
	inflight  map[string]chan struct{}
	failures  map[string]failure
}

// failure is a host's last failed attempt.
type failure struct {
	err   error
	until time.Time
	pause time.Duration
}

// NewACME returns an ACME obtaining certificates for the hosts allowed
// says yes to, logging through ctx's logger. Close stops its background
// renewals.
func NewACME(ctx context.Context, cfg ACMEConfig, allowed func(host string) bool) (*ACME, error) {
	if cfg.StorageDir == "" {
		return nil, errors.New("acme: no storage directory")
	}
	if cfg.CA == "" {
		cfg.CA = DefaultACMECA
	}
	if cfg.IssueTimeout <= 0 {
		cfg.IssueTimeout = DefaultIssueTimeout
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultRetryAfter
	}
	host, port, err := net.SplitHostPort(cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("acme: proxy http address %q: %w", cfg.HTTPAddr, err)
	}
	httpPort, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("acme: proxy http port %q: %w", port, err)
	}
	a := &ACME{cfg: cfg, allowed: allowed, log: zerolog.Ctx(ctx).With().Str("acme_ca", cfg.CA).Logger(),
		inflight: map[string]chan struct{}{}, failures: map[string]failure{}}
	zl := zapToZerolog(a.log)
	a.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert:   func(certmagic.Certificate) (*certmagic.Config, error) { return a.magic, nil },
		RenewCheckInterval: cfg.RenewCheck,
		Logger:             zl,
	})
	a.magic = certmagic.New(a.cache, certmagic.Config{
		Storage: &certmagic.FileStorage{Path: cfg.StorageDir},
		Logger:  zl,
	})
	a.issuer = certmagic.NewACMEIssuer(a.magic, certmagic.ACMEIssuer{
		CA:           cfg.CA,
		Email:        cfg.Email,
		Agreed:       true,
		TrustedRoots: cfg.Roots,
		// The proxy's own HTTP listener answers the challenge: certmagic
		// finds the port taken and opens nothing.
		ListenHost:              host,
		AltHTTPPort:             httpPort,
		DisableTLSALPNChallenge: true,
		Logger:                  zl,
	})
	a.magic.Issuers = []certmagic.Issuer{a.issuer}
	return a, nil
}

// Close stops the background renewals; it may be called more than once.
func (a *ACME) Close() { a.closeOnce.Do(a.cache.Stop) }

// HandleChallenge answers the CA's http-01 challenge requests and reports
// whether r was one.
func (a *ACME) HandleChallenge(w http.ResponseWriter, r *http.Request) bool {
	return a.issuer.HandleHTTPChallenge(w, r)
}

// Allowed reports whether host may have an ACME certificate.
func (a *ACME) Allowed(host string) bool { return a.allowed(host) }

// Certificate returns the certificate of hello's server name: from memory,
// from storage, or obtained now. A host not allowed is refused at once.
func (a *ACME) Certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	host := normalHost(hello.ServerName)
	if !a.allowed(host) {
		return nil, fmt.Errorf("no certificate for %q: not a host of an environment", host)
	}
	if cert, err := a.magic.GetCertificate(hello); err == nil {
		return cert, nil
	}
	ctx, cancel := context.WithTimeout(hello.Context(), a.cfg.IssueTimeout)
	defer cancel()
	if err := a.ensure(ctx, host); err != nil {
		return nil, err
	}
	return a.magic.GetCertificate(hello)
}

// ensure puts host's certificate in the cache: from storage, or obtained
// from the CA unless a recent attempt failed. One attempt per host runs at
// a time; the others wait for it.
func (a *ACME) ensure(ctx context.Context, host string) error {
	for {
		a.mu.Lock()
		wait, busy := a.inflight[host]
		if !busy {
			if f, ok := a.failures[host]; ok && time.Now().Before(f.until) {
				a.mu.Unlock()
				return fmt.Errorf("no certificate for %s until %s: %w", host, f.until.UTC().Format(time.RFC3339), f.err)
			}
			done := make(chan struct{})
			a.inflight[host] = done
			a.mu.Unlock()
			err := a.obtain(ctx, host)
			a.finish(host, done, err)
			return err
		}
		a.mu.Unlock()
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the certificate of %s: %w", host, ctx.Err())
		case <-wait: // its outcome is in storage or in failures
		}
	}
}

// obtain loads host's certificate from storage, renewed now when it
// expired there (the proxy was down), or obtains one.
func (a *ACME) obtain(ctx context.Context, host string) error {
	cert, err := a.magic.CacheManagedCertificate(ctx, host)
	if err == nil && !cert.Expired() {
		return nil
	}
	if err == nil {
		a.log.Info().Str("host", host).Msg("acme: stored certificate expired; renewing it")
		if err := a.magic.RenewCertSync(ctx, host, false); err != nil {
			return fmt.Errorf("renew expired certificate of %s from %s: %w", host, a.cfg.CA, err)
		}
		if _, err := a.magic.CacheManagedCertificate(ctx, host); err != nil {
			return fmt.Errorf("load renewed certificate of %s: %w", host, err)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		a.log.Warn().Err(err).Str("host", host).Msg("acme: stored certificate unusable; obtaining a new one")
	}
	a.log.Info().Str("host", host).Msg("acme: obtaining certificate")
	if err := a.magic.ObtainCertSync(ctx, host); err != nil {
		return fmt.Errorf("obtain certificate for %s from %s: %w", host, a.cfg.CA, err)
	}
	if _, err := a.magic.CacheManagedCertificate(ctx, host); err != nil {
		return fmt.Errorf("load obtained certificate of %s: %w", host, err)
	}
	a.log.Info().Str("host", host).Msg("acme: certificate obtained")
	return nil
}

// finish records the outcome of host's attempt and wakes its waiters.
func (a *ACME) finish(host string, done chan struct{}, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.inflight, host)
	close(done)
	if err == nil {
		delete(a.failures, host)
		return
	}
	pause := a.cfg.RetryAfter
	if f, ok := a.failures[host]; ok {
		pause = min(2*f.pause, maxRetryAfter)
	}
	a.failures[host] = failure{err: err, until: time.Now().Add(pause), pause: pause}
	a.log.Error().Err(err).Str("host", host).Dur("retry_in", pause).Msg("acme: no certificate; the host's HTTPS handshakes fail until the next attempt")
}
