package proxy_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/proxy"
	"github.com/slipway-dev/slipway/proxy/acmetest"
)

func TestLoadCertificatesRefusesBadFiles(t *testing.T) {
	ca := acmetest.MustCA(t)
	dir := t.TempDir()
	good := ca.IssueNow(t, "shop.example.com")
	other := ca.IssueNow(t, "shop.example.com")
	goodCrt, goodKey := good.Write(t, dir, "good")
	_, otherKey := other.Write(t, dir, "other")
	expiredCrt, expiredKey := ca.Issue(t, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour), "shop.example.com").Write(t, dir, "expired")
	futureCrt, futureKey := ca.Issue(t, time.Now().Add(time.Hour), time.Now().Add(48*time.Hour), "shop.example.com").Write(t, dir, "future")
	blogCrt, blogKey := ca.IssueNow(t, "blog.example.com").Write(t, dir, "blog")
	garbage := filepath.Join(dir, "garbage.pem")
	acmetest.MustWrite(t, garbage, []byte("not a certificate\n"))
	badDER := filepath.Join(dir, "bad-der.pem")
	acmetest.MustWrite(t, badDER, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	keyBody := string(good.KeyPEM[len("-----BEGIN PRIVATE KEY-----\n") : len("-----BEGIN PRIVATE KEY-----\n")+40])
	badKey := filepath.Join(dir, "bad.key")
	acmetest.MustWrite(t, badKey, []byte("-----BEGIN PRIVATE KEY-----\n"+keyBody+"\n-----END PRIVATE KEY-----\n"))
	missing := filepath.Join(dir, "missing.crt")

	tests := []struct {
		name      string
		file      proxy.CertFile
		wantParts []string // "" file: loads
	}{
		{"good", proxy.CertFile{Host: "shop.example.com", CertPath: goodCrt, KeyPath: goodKey}, nil},
		{"missing certificate", proxy.CertFile{Host: "shop.example.com", CertPath: missing, KeyPath: goodKey}, []string{"shop.example.com", missing, "no such file"}},
		{"missing key", proxy.CertFile{Host: "shop.example.com", CertPath: goodCrt, KeyPath: missing}, []string{"shop.example.com", missing, "no such file"}},
		{"not PEM", proxy.CertFile{Host: "shop.example.com", CertPath: garbage, KeyPath: goodKey}, []string{"shop.example.com", garbage, "no PEM certificate"}},
		{"malformed certificate", proxy.CertFile{Host: "shop.example.com", CertPath: badDER, KeyPath: goodKey}, []string{"shop.example.com", badDER, "malformed certificate"}},
		{"malformed key", proxy.CertFile{Host: "shop.example.com", CertPath: goodCrt, KeyPath: badKey}, []string{"shop.example.com", badKey, "malformed private key"}},
		{"key not PEM", proxy.CertFile{Host: "shop.example.com", CertPath: goodCrt, KeyPath: garbage}, []string{"shop.example.com", garbage, "no PEM private key"}},
		{"expired", proxy.CertFile{Host: "shop.example.com", CertPath: expiredCrt, KeyPath: expiredKey}, []string{"shop.example.com", expiredCrt, "expired at"}},
		{"not yet valid", proxy.CertFile{Host: "shop.example.com", CertPath: futureCrt, KeyPath: futureKey}, []string{"shop.example.com", futureCrt, "not valid before"}},
		{"key of another certificate", proxy.CertFile{Host: "shop.example.com", CertPath: goodCrt, KeyPath: otherKey}, []string{"shop.example.com", otherKey, "does not match", goodCrt}},
		{"certificate of another host", proxy.CertFile{Host: "shop.example.com", CertPath: blogCrt, KeyPath: blogKey}, []string{"shop.example.com", blogCrt, "does not name", "blog.example.com"}},
		{"wildcard without a wildcard certificate", proxy.CertFile{Host: "*.example.com", CertPath: goodCrt, KeyPath: goodKey}, []string{"*.example.com", "does not name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certs, err := proxy.LoadCertificates([]proxy.CertFile{tt.file}, time.Now())
			if tt.wantParts == nil {
				if err != nil {
					t.Fatalf("LoadCertificates: %v", err)
				}
				if _, ok := certs.Lookup(tt.file.Host); !ok {
					t.Errorf("no certificate for %s", tt.file.Host)
				}
				return
			}
			if !errorsContain(err, tt.wantParts...) {
				t.Fatalf("LoadCertificates = %v, want an error with %q", err, tt.wantParts)
			}
			for _, secret := range []string{keyBody, string(good.KeyPEM), string(other.KeyPEM)} {
				if strings.Contains(err.Error(), strings.TrimSpace(secret)) {
					t.Errorf("error %q holds key material", err)
				}
			}
		})
	}
}

func TestLoadCertificatesReportsEveryBadFile(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.crt"), filepath.Join(dir, "b.crt")
	_, err := proxy.LoadCertificates([]proxy.CertFile{
		{Host: "a.example.com", CertPath: a, KeyPath: a},
		{Host: "b.example.com", CertPath: b, KeyPath: b},
	}, time.Now())
	if !errorsContain(err, "a.example.com", a, "b.example.com", b) {
		t.Errorf("LoadCertificates = %v, want both hosts and files", err)
	}
}

func TestCertFilesInDir(t *testing.T) {
	ca := acmetest.MustCA(t)
	dir := t.TempDir()
	ca.IssueNow(t, "shop.example.com").Write(t, dir, "Shop.Example.com")
	ca.IssueNow(t, "*.apps.example.com").Write(t, dir, "_.apps.example.com")
	if err := os.Mkdir(filepath.Join(dir, "sub.crt"), 0o700); err != nil {
		t.Fatal(err)
	}
	files, err := proxy.CertFilesInDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := proxy.LoadCertificates(files, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(certs.Hosts(), " "), "*.apps.example.com shop.example.com"; got != want {
		t.Errorf("hosts = %q, want %q", got, want)
	}
	for host, want := range map[string]bool{"shop.example.com": true, "web.apps.example.com": true, "apps.example.com": false, "a.b.apps.example.com": false, "example.com": false} {
		if _, ok := certs.Lookup(host); ok != want {
			t.Errorf("Lookup(%s) = %v, want %v", host, ok, want)
		}
	}

	// A key without its certificate, or a certificate without its key.
	acmetest.MustWrite(t, filepath.Join(dir, "lone.key"), []byte("x"))
	if _, err := proxy.CertFilesInDir(dir); !errorsContain(err, filepath.Join(dir, "lone.key"), "no certificate") {
		t.Errorf("lone key: %v, want an error naming it", err)
	}
	os.Remove(filepath.Join(dir, "lone.key"))
	acmetest.MustWrite(t, filepath.Join(dir, "lone.example.com.crt"), ca.IssueNow(t, "lone.example.com").CertPEM)
	files, err = proxy.CertFilesInDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := proxy.LoadCertificates(files, time.Now()); !errorsContain(err, "lone.example.com", filepath.Join(dir, "lone.example.com.key"), "no such file") {
		t.Errorf("lone certificate: %v, want an error naming its missing key", err)
	}
	if _, err := proxy.CertFilesInDir(filepath.Join(dir, "nope")); !errorsContain(err, "nope") {
		t.Errorf("missing directory: %v", err)
	}
}

func TestCertificatesWatchReloadsFiles(t *testing.T) {
	ca := acmetest.MustCA(t)
	dir := t.TempDir()
	first := ca.IssueNow(t, "shop.example.com")
	first.Write(t, dir, "shop.example.com")
	load := func() (*proxy.Certificates, error) {
		files, err := proxy.CertFilesInDir(dir)
		if err != nil {
			return nil, err
		}
		return proxy.LoadCertificates(files, time.Now())
	}
	certs, err := load()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(zerolog.New(logs).WithContext(context.Background()))
	done := make(chan struct{})
	go func() { certs.Watch(ctx, 10*time.Millisecond, load); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	served := func() []byte {
		c, _ := certs.Lookup("shop.example.com")
		return c.Certificate[0]
	}

	// Renewed files are served without a restart.
	second := ca.IssueNow(t, "shop.example.com")
	second.Write(t, dir, "shop.example.com")
	want := second.TLS(t).Certificate[0]
	waitFor(t, "the renewed certificate served", func() bool { return bytes.Equal(served(), want) })

	// A bad key at reload: logged naming the file, the previous pair kept.
	// (Only what is logged from now on counts: the two files of the
	// renewal were not written at the same instant.)
	mark := len(logs.String())
	bad := filepath.Join(dir, "shop.example.com.key")
	acmetest.MustWrite(t, bad, ca.IssueNow(t, "shop.example.com").KeyPEM)
	waitFor(t, "the reload error logged", func() bool {
		l := logs.String()[mark:]
		return strings.Contains(l, "not reloaded") && strings.Contains(l, bad) && strings.Contains(l, "does not match")
	})
	if !bytes.Equal(served(), want) {
		t.Error("a failed reload replaced the certificate served")
	}
	if strings.Contains(logs.String(), "PRIVATE KEY") {
		t.Errorf("log holds key material:\n%s", logs)
	}
}

// waitFor polls cond until it holds, failing after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
