package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/proxy/acmetest"
)

// TestHTTPSHostWithPebbleCertificate: slipway up with -acme against a
// Pebble started by the test deploys the sample whose web declares a host;
// a client shaking hands with that server name, verifying the chain
// against Pebble's root, gets the commit's web container's answer through
// the proxy, and plain HTTP of the host redirects to HTTPS. Pebble
// validated the certificate with a real http-01 challenge to the proxy.
func TestHTTPSHostWithPebbleCertificate(t *testing.T) {
	requireComponents(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	tag := hex.EncodeToString(b)
	name, host := "tls-"+tag, "www.tls-"+tag+".example.test"
	cfg := pipeline.DefaultConfig()
	cfg.DataDir, cfg.MirrorDir = t.TempDir(), t.TempDir()
	cfg.NATSPort, cfg.HTTPAddr, cfg.ProxyAddr = -1, "127.0.0.1:0", freeAddr(t)
	cfg.StagingEnv, cfg.HealthTimeout = name, 10*time.Second
	cfg.RepoSecrets = pipeline.RepoSecrets{"acme/shop": {[]byte("shop-secret")}}
	if err := cfg.HostGrants.Set("acme/shop=*.tls-" + tag + ".example.test"); err != nil {
		t.Fatal(err)
	}
	if r := os.Getenv("SLIPWAY_REGISTRY"); r != "" {
		cfg.Registry = r
	}
	if b := os.Getenv("BUILDKIT_HOST"); b != "" {
		cfg.BuildkitHost = b
	}
	_, port, _ := net.SplitHostPort(cfg.ProxyAddr)
	httpPort, _ := strconv.Atoi(port)
	ca := acmetest.MustPebble(t, httpPort)
	cfg.HTTPS = pipeline.HTTPSConfig{Addr: freeAddr(t), ACME: true, ACMECA: ca.Directory, ACMERoot: ca.ServerRootFile, ACMEEmail: "ops@example.test", HSTS: time.Hour}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel).WithContext(ctx)
	up := &pipeline.Up{Config: cfg}
	if err := up.Open(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- up.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil && runCtx.Err() == nil {
			t.Errorf("slipway up: %v", err)
		}
		up.Close()
		removeRepoEnv(t, "acme/shop", name)
	})
	e := &env{up: up, env: name, window: cfg.Topology.DuplicateWindow}
	shop := newTenant(t, ctx, "acme/shop", "shop-secret", "shop", tenantManifest(name, host))
	c1 := e.push(t, ctx, shop.s, "shop: first", "").After
	shop.waitServing(t, ctx, e, c1) // the default hosts, in clear

	https := &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, cfg.HTTPS.Addr)
			},
			TLSClientConfig: &tls.Config{RootCAs: ca.Roots, ServerName: host, MinVersion: tls.VersionTLS12},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := https.Get("https://" + host + "/")
	if err != nil {
		t.Fatalf("GET https://%s: %v", host, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := strings.TrimSpace(string(body)); resp.StatusCode != 200 || got != "web "+c1 {
		t.Errorf("GET https://%s = %d %q, want 200 %q", host, resp.StatusCode, got, "web "+c1)
	}
	if names := resp.TLS.PeerCertificates[0].DNSNames; len(names) != 1 || names[0] != host {
		t.Errorf("certificate names %v, want %s", names, host)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=3600" {
		t.Errorf("HSTS = %q, want max-age=3600", got)
	}

	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+cfg.ProxyAddr+"/x", nil)
	req.Host = host
	resp, err = (&http.Client{CheckRedirect: https.CheckRedirect}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, httpsPort, _ := net.SplitHostPort(cfg.HTTPS.Addr)
	if want := "https://" + host + ":" + httpsPort + "/x"; resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
		t.Errorf("GET http://%s/x = %d %q, want 308 to %s", host, resp.StatusCode, resp.Header.Get("Location"), want)
	}
	if ca.Requests.Load() == 0 {
		t.Error("the certificate did not come from Pebble")
	}
	if keys, _ := filepath.Glob(filepath.Join(cfg.DataDir, "acme", "certificates", "*", host, host+".key")); len(keys) != 1 {
		t.Errorf("no key of %s stored under <data-dir>/acme", host)
	}
}
