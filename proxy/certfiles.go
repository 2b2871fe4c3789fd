package proxy

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// CertFile names the PEM certificate (chain) and private key files of a
// host. Host is a name ("shop.example.com") or a wildcard of one label
// ("*.example.com").
type CertFile struct {
	Host     string
	CertPath string
	KeyPath  string
}

// Certificates are certificates read from files, chosen by server name: the
// certificate of the exact host first, then the wildcard one label up.
// Watch reads them again while the proxy runs.
type Certificates struct {
	mu     sync.RWMutex
	byHost map[string]*tls.Certificate
}

// CertFilesInDir lists the pairs "<host>.crt" and "<host>.key" of dir. A
// wildcard host is written "*.example.com" or "_.example.com". A
// certificate without its key, or a key without its certificate, is an
// error naming the file.
func CertFilesInDir(dir string) ([]CertFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read certificate directory: %w", err)
	}
	names := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if n, ok := strings.CutSuffix(e.Name(), ".crt"); ok {
			names[n] = true
		}
	}
	var files []CertFile
	var errs []error
	for _, e := range entries {
		n, ok := strings.CutSuffix(e.Name(), ".key")
		if ok && !names[n] {
			errs = append(errs, fmt.Errorf("key file %s: no certificate %s.crt beside it", filepath.Join(dir, e.Name()), n))
		}
	}
	for n := range names {
		host := strings.ToLower(n)
		if rest, ok := strings.CutPrefix(host, "_."); ok {
			host = "*." + rest
		}
		files = append(files, CertFile{Host: host, CertPath: filepath.Join(dir, n+".crt"), KeyPath: filepath.Join(dir, n+".key")})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Host < files[j].Host })
	return files, errors.Join(errs...)
}

// LoadCertificates reads and checks every file: each certificate must
// parse, cover its host, be valid at now and match its key. Every problem
// is reported at once, each naming the host and the file; no error ever
// holds key material.
func LoadCertificates(files []CertFile, now time.Time) (*Certificates, error) {
	c := &Certificates{byHost: map[string]*tls.Certificate{}}
	var errs []error
	for _, f := range files {
		host := strings.TrimSuffix(strings.ToLower(f.Host), ".")
		if _, dup := c.byHost[host]; dup {
			errs = append(errs, fmt.Errorf("certificate of %s: given twice (%s)", host, f.CertPath))
			continue
		}
		cert, err := loadCertFile(host, f.CertPath, f.KeyPath, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("certificate of %s: %w", host, err))
			continue
		}
		c.byHost[host] = cert
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// Lookup returns the certificate serving host (lower-case, without port).
func (c *Certificates) Lookup(host string) (*tls.Certificate, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if cert, ok := c.byHost[host]; ok {
		return cert, true
	}
	if _, parent, ok := strings.Cut(host, "."); ok && parent != "" {
		cert, ok := c.byHost["*."+parent]
		return cert, ok
	}
	return nil, false
}

// Hosts returns the hosts the certificates serve, wildcards included.
func (c *Certificates) Hosts() []string {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]string, 0, len(c.byHost))
	for h := range c.byHost {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// Watch reads the certificates again with load every interval until ctx
// ends, so that renewed files (certbot, cert-manager) are served without a
// restart. When load fails (a file missing, malformed, expired or not
// matching its key) the error, naming the host and the file, is logged and
// the certificates read last stay.
func (c *Certificates) Watch(ctx context.Context, every time.Duration, load func() (*Certificates, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		next, err := load()
		if err != nil {
			zerolog.Ctx(ctx).Error().Err(err).Msg("proxy: certificate files not reloaded; serving the previous ones")
			continue
		}
		next.mu.RLock()
		byHost := next.byHost
		next.mu.RUnlock()
		c.mu.Lock()
		c.byHost = byHost
		c.mu.Unlock()
	}
}

// loadCertFile reads the chain at certPath and the key at keyPath and
// checks them for host.
func loadCertFile(host, certPath, keyPath string, now time.Time) (*tls.Certificate, error) {
	chain, err := readChain(certPath)
	if err != nil {
		return nil, err
	}
	leaf := chain[0]
	if err := checkLeaf(leaf, host, now); err != nil {
		return nil, fmt.Errorf("%s: %w", certPath, err)
	}
	key, err := readKey(keyPath)
	if err != nil {
		return nil, err
	}
	pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return nil, fmt.Errorf("key %s does not match certificate %s", keyPath, certPath)
	}
	cert := &tls.Certificate{PrivateKey: key, Leaf: leaf}
	for _, c := range chain {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	return cert, nil
}

// readChain parses the PEM certificates of path, the leaf first.
func readChain(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	var chain []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: malformed certificate: %w", path, err)
		}
		chain = append(chain, c)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate in it", path)
	}
	return chain, nil
}

// checkLeaf checks that leaf is valid at now and names host.
func checkLeaf(leaf *x509.Certificate, host string, now time.Time) error {
	if now.After(leaf.NotAfter) {
		return fmt.Errorf("expired at %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Before(leaf.NotBefore) {
		return fmt.Errorf("not valid before %s", leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	name := host
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		name = "slipway-wildcard-check." + rest // a name only the wildcard covers
	}
	if err := leaf.VerifyHostname(name); err != nil {
		return fmt.Errorf("does not name %s (it names %s)", host, strings.Join(leaf.DNSNames, ", "))
	}
	return nil
}

// readKey parses the PEM private key of path (PKCS#8, PKCS#1 or SEC 1).
// Its errors never quote the file.
func readKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("%s: no PEM private key in it", path)
		}
		if !strings.HasSuffix(block.Type, "PRIVATE KEY") {
			continue
		}
		if k, err := parseKey(block.Bytes); err == nil {
			return k, nil
		}
		return nil, fmt.Errorf("%s: malformed private key", path)
	}
}

// parseKey parses a DER private key of any of the usual encodings.
func parseKey(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
		return nil, errors.New("unsupported key type")
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	return x509.ParseECPrivateKey(der)
}
