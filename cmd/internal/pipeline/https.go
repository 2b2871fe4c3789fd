package pipeline

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/slipway-dev/slipway/proxy"
)

// certReload is how often the certificate files are read again.
const certReload = time.Minute

// HTTPSConfig configures the proxy's HTTPS listener: certificates from
// files (-tls-cert-dir, -tls-cert) and obtained by ACME (-acme) for the
// hosts environments claimed.
type HTTPSConfig struct {
	Addr      string
	CertDir   string
	CertFiles CertFlags
	ACME      bool
	ACMECA    string
	ACMEEmail string
	ACMERoot  string
	// ACMEDir keeps the ACME account, certificates and keys; empty:
	// <data-dir>/acme.
	ACMEDir string
	HSTS    time.Duration
}

// Bind binds the settings to fs.
func (h *HTTPSConfig) Bind(fs *flag.FlagSet) {
	fs.StringVar(&h.Addr, "proxy-https-addr", h.Addr, "address of the proxy's HTTPS listener (e.g. :443); empty serves plain HTTP only")
	fs.StringVar(&h.CertDir, "tls-cert-dir", h.CertDir, "directory of <host>.crt and <host>.key PEM pairs served over HTTPS (_.<domain> or *.<domain> for a wildcard)")
	fs.Var(&h.CertFiles, "tls-cert", "host=cert.pem,key.pem: a certificate served for host (a leading *. matches one label; repeat)")
	fs.BoolVar(&h.ACME, "acme", h.ACME, "obtain certificates by ACME (http-01 on -proxy-addr, which must be port 80 to the CA) for the hosts environments claimed (hosts:)")
	fs.StringVar(&h.ACMECA, "acme-ca", h.ACMECA, "ACME directory URL (default Let's Encrypt's production CA)")
	fs.StringVar(&h.ACMEEmail, "acme-email", h.ACMEEmail, "contact address of the ACME account")
	fs.StringVar(&h.ACMERoot, "acme-ca-root", h.ACMERoot, "PEM file of the roots trusted for the ACME CA's own HTTPS (a private CA such as Pebble); default the system's")
	fs.StringVar(&h.ACMEDir, "acme-dir", h.ACMEDir, "directory of the ACME account, certificates and keys (default <data-dir>/acme; share it between deployers behind one name)")
	fs.DurationVar(&h.HSTS, "hsts", h.HSTS, "send Strict-Transport-Security with this max-age on HTTPS responses (e.g. 8760h); 0 sends none")
}

// enabled reports whether anything asks for HTTPS.
func (h *HTTPSConfig) enabled() bool {
	return h.Addr != "" || h.CertDir != "" || len(h.CertFiles) > 0 || h.ACME
}

// validateHTTPS reports unusable settings at start: an HTTPS setting without
// -proxy-https-addr, ACME without the plain HTTP listener its challenge
// needs, and every certificate file that is missing, malformed, expired
// or does not match its key (naming the host and the file).
func (c *Config) validateHTTPS() error {
	h := &c.HTTPS
	if !h.enabled() {
		return nil
	}
	var errs []error
	if h.Addr == "" {
		errs = append(errs, errors.New("-tls-cert-dir, -tls-cert and -acme need -proxy-https-addr"))
	} else if _, _, err := net.SplitHostPort(h.Addr); err != nil {
		errs = append(errs, fmt.Errorf("-proxy-https-addr %q: %w", h.Addr, err))
	}
	if h.ACME && c.ProxyAddr == "" {
		errs = append(errs, errors.New("-acme needs -proxy-addr: the CA's http-01 challenge is answered there"))
	}
	if !h.ACME && (h.ACMECA != "" || h.ACMEEmail != "" || h.ACMERoot != "" || h.ACMEDir != "") {
		errs = append(errs, errors.New("-acme-ca, -acme-email, -acme-ca-root and -acme-dir need -acme"))
	}
	if h.ACME && h.ACMERoot != "" {
		if _, err := readRoots(h.ACMERoot); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := h.certificates(); err != nil {
		errs = append(errs, err)
	}
	if h.Addr != "" && !h.ACME && h.CertDir == "" && len(h.CertFiles) == 0 {
		errs = append(errs, errors.New("-proxy-https-addr without certificates: give -tls-cert-dir, -tls-cert or -acme"))
	}
	return errors.Join(errs...)
}

// certificates reads and checks the certificate files.
func (h *HTTPSConfig) certificates() (*proxy.Certificates, error) {
	files := append([]proxy.CertFile(nil), h.CertFiles...)
	if h.CertDir != "" {
		inDir, err := proxy.CertFilesInDir(h.CertDir)
		if err != nil {
			return nil, fmt.Errorf("-tls-cert-dir: %w", err)
		}
		files = append(files, inDir...)
	}
	if len(files) == 0 && h.CertDir == "" {
		return nil, nil
	}
	certs, err := proxy.LoadCertificates(files, time.Now())
	if err != nil {
		return nil, fmt.Errorf("tls certificates: %w", err)
	}
	return certs, nil
}

// acmeDir returns the ACME storage directory.
func (h *HTTPSConfig) acmeDir(dataDir string) string {
	if h.ACMEDir != "" {
		return h.ACMEDir
	}
	return filepath.Join(dataDir, "acme")
}

// readRoots reads a PEM file of root certificates.
func readRoots(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-acme-ca-root: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("-acme-ca-root %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// proxies reports whether the deployer serves a proxy.
func (c *Config) proxies() bool {
	return c.ProxyAddr != "" || c.HTTPS.Addr != ""
}

// flightsMu guards the first use of Config.flights: a running `slipway
// up` and an operator's command in the same process (a test's NewTarget
// of the live Config) may make its targets at once. A Config is copied by
// value, so the lock cannot live in it.
var flightsMu sync.Mutex

// inFlight returns the counts of requests in flight the deployer's proxy
// keeps and its Docker targets drain by, made on first use.
func (c *Config) inFlight() *proxy.Flights {
	flightsMu.Lock()
	defer flightsMu.Unlock()
	if c.flights == nil {
		c.flights = proxy.NewFlights()
	}
	return c.flights
}

// serveProxy starts the proxy's listeners in g: plain HTTP on -proxy-addr
// and, when configured, HTTPS on -proxy-https-addr.
func serveProxy(ctx context.Context, g *errgroup.Group, cfg *Config, resolver proxy.Resolver, table proxy.HostTable, opts ...proxy.Option) error {
	if !cfg.proxies() {
		return nil
	}
	opts = append([]proxy.Option{proxy.WithHosts(table), proxy.WithFlights(cfg.inFlight())}, opts...)
	if cfg.Metrics != nil {
		opts = append(opts, proxy.WithObserver(cfg.Metrics))
	}
	p := proxy.New(resolver, cfg.ProxyDomain, opts...)
	g.Go(func() error { return p.PublishCounts(ctx) })
	front, err := newHTTPSFront(ctx, cfg, table)
	if err != nil {
		return fmt.Errorf("proxy https: %w", err)
	}
	if cfg.ProxyAddr != "" {
		var h http.Handler = p
		if front != nil {
			h = front.ServeHTTP(p)
		}
		srv := &proxy.Server{Addr: cfg.ProxyAddr, Handler: h}
		g.Go(func() error { return srv.Run(ctx) })
		logger(ctx).Info().Str("addr", cfg.ProxyAddr).Str("domain", cfg.ProxyDomain).Msg("proxy serving")
	}
	if front != nil && front.Files != nil {
		g.Go(func() error {
			front.Files.Watch(ctx, certReload, cfg.HTTPS.certificates)
			return nil
		})
	}
	if front != nil {
		srv := &proxy.Server{Addr: cfg.HTTPS.Addr, Handler: front.ServeHTTPS(p), TLSConfig: front.TLSConfig()}
		g.Go(func() error {
			defer func() {
				if front.ACME != nil {
					front.ACME.Close()
				}
			}()
			return srv.Run(ctx)
		})
		logger(ctx).Info().Str("addr", cfg.HTTPS.Addr).Strs("cert_hosts", front.Files.Hosts()).Bool("acme", front.ACME != nil).Msg("proxy serving https")
	}
	return nil
}

// newHTTPSFront returns the proxy's HTTPS settings, nil without
// -proxy-https-addr.
func newHTTPSFront(ctx context.Context, cfg *Config, table proxy.HostTable) (*proxy.HTTPS, error) {
	h := &cfg.HTTPS
	if h.Addr == "" {
		return nil, nil
	}
	certs, err := h.certificates()
	if err != nil {
		return nil, err
	}
	_, port, err := net.SplitHostPort(h.Addr)
	if err != nil {
		return nil, fmt.Errorf("-proxy-https-addr %q: %w", h.Addr, err)
	}
	front := &proxy.HTTPS{Files: certs, Port: port, HSTS: h.HSTS}
	if !h.ACME {
		return front, nil
	}
	acfg := proxy.ACMEConfig{CA: h.ACMECA, Email: h.ACMEEmail, StorageDir: h.acmeDir(cfg.DataDir), HTTPAddr: cfg.ProxyAddr}
	if h.ACMERoot != "" {
		if acfg.Roots, err = readRoots(h.ACMERoot); err != nil {
			return nil, err
		}
	}
	if front.ACME, err = proxy.NewACME(ctx, acfg, proxy.Claimed(table)); err != nil {
		return nil, err
	}
	return front, nil
}

// CertFlags is the repeatable flag -tls-cert host=cert.pem,key.pem.
type CertFlags []proxy.CertFile

func (f *CertFlags) String() string {
	hosts := make([]string, 0, len(*f))
	for _, c := range *f {
		hosts = append(hosts, c.Host+"="+c.CertPath+","+c.KeyPath)
	}
	return strings.Join(hosts, " ")
}

// Set adds one host=cert.pem,key.pem.
func (f *CertFlags) Set(v string) error {
	host, files, ok := strings.Cut(strings.TrimSpace(v), "=")
	cert, key, ok2 := strings.Cut(files, ",")
	host, cert, key = strings.TrimSpace(host), strings.TrimSpace(cert), strings.TrimSpace(key)
	if !ok || !ok2 || host == "" || cert == "" || key == "" {
		return fmt.Errorf("tls certificate %q: want host=cert.pem,key.pem", v)
	}
	*f = append(*f, proxy.CertFile{Host: strings.ToLower(host), CertPath: cert, KeyPath: key})
	return nil
}
