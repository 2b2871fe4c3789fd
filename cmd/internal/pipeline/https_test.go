package pipeline

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/proxy/acmetest"
)

// TestHTTPSFlagsRefuseBadCertificates: a certificate file that is missing,
// malformed, expired or whose key does not match stops the start with an
// error naming the host and the file, never the key; so do HTTPS settings
// that cannot work.
func TestHTTPSFlagsRefuseBadCertificates(t *testing.T) {
	ca := acmetest.MustCA(t)
	dir := t.TempDir()
	good := ca.IssueNow(t, "shop.example.com")
	crt, key := good.Write(t, dir, "shop.example.com")
	_, otherKey := ca.IssueNow(t, "shop.example.com").Write(t, dir, "other")
	oldCrt, oldKey := ca.Issue(t, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour), "old.example.com").Write(t, dir, "old")
	garbage := filepath.Join(dir, "garbage.pem")
	acmetest.MustWrite(t, garbage, []byte("garbage"))
	certDir := t.TempDir()
	good.Write(t, certDir, "shop.example.com")
	badDir := t.TempDir()
	ca.IssueNow(t, "shop.example.com").Write(t, badDir, "shop.example.com")
	acmetest.MustWrite(t, filepath.Join(badDir, "shop.example.com.key"), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	missing := filepath.Join(dir, "missing.pem")
	https := []string{"-proxy-https-addr", "127.0.0.1:8443"}

	tests := []struct {
		name    string
		args    []string
		wantErr []string // nil: valid
	}{
		{"no https", nil, nil},
		{"certificate flag", append(https, "-tls-cert", "shop.example.com="+crt+","+key), nil},
		{"certificate directory", append(https, "-tls-cert-dir", certDir), nil},
		{"acme", append(https, "-acme", "-acme-email", "ops@example.com"), nil},
		{"missing certificate", append(https, "-tls-cert", "shop.example.com="+missing+","+key), []string{"shop.example.com", missing, "no such file"}},
		{"missing key", append(https, "-tls-cert", "shop.example.com="+crt+","+missing), []string{"shop.example.com", missing, "no such file"}},
		{"malformed certificate", append(https, "-tls-cert", "shop.example.com="+garbage+","+key), []string{"shop.example.com", garbage, "no PEM certificate"}},
		{"malformed key in the directory", append(https, "-tls-cert-dir", badDir), []string{"shop.example.com", filepath.Join(badDir, "shop.example.com.key"), "malformed private key"}},
		{"expired", append(https, "-tls-cert", "old.example.com="+oldCrt+","+oldKey), []string{"old.example.com", oldCrt, "expired at"}},
		{"key does not match", append(https, "-tls-cert", "shop.example.com="+crt+","+otherKey), []string{"shop.example.com", otherKey, "does not match"}},
		{"missing directory", append(https, "-tls-cert-dir", missing), []string{"-tls-cert-dir", missing}},
		{"certificate without the https address", []string{"-tls-cert", "shop.example.com=" + crt + "," + key}, []string{"need -proxy-https-addr"}},
		{"https address without certificates", https, []string{"without certificates"}},
		{"acme without the http listener", append(https, "-acme", "-proxy-addr", ""), []string{"-acme needs -proxy-addr"}},
		{"acme root not PEM", append(https, "-acme", "-acme-ca-root", garbage), []string{"-acme-ca-root", garbage, "no PEM certificate"}},
		{"acme directory without acme", append(https, "-tls-cert-dir", certDir, "-acme-dir", dir), []string{"need -acme"}},
		{"acme setting without acme", append(https, "-tls-cert-dir", certDir, "-acme-ca", "https://127.0.0.1:14000/dir"), []string{"need -acme"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			c.BindDeployer(fs)
			if err := ParseFlagSet(fs, tt.args); err != nil {
				t.Fatal(err)
			}
			err := c.Validate()
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate passed, want an error with %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %v, want it to name %q", err, w)
				}
			}
			if strings.Contains(err.Error(), strings.TrimSpace(string(good.KeyPEM))) || strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("error %q holds key material", err)
			}
		})
	}
}

func TestCertFlag(t *testing.T) {
	var f CertFlags
	if err := f.Set("Shop.Example.com=/c.pem,/k.pem"); err != nil {
		t.Fatal(err)
	}
	if len(f) != 1 || f[0].Host != "shop.example.com" || f[0].CertPath != "/c.pem" || f[0].KeyPath != "/k.pem" {
		t.Errorf("CertFlags = %+v", f)
	}
	for _, bad := range []string{"shop.example.com", "shop.example.com=/c.pem", "=/c.pem,/k.pem", "shop.example.com=,/k.pem"} {
		if err := f.Set(bad); err == nil {
			t.Errorf("Set(%q) passed, want an error", bad)
		}
	}
}
