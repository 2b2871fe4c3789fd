package registrytest

import (
	"path/filepath"
	"testing"

	"github.com/slipway-dev/slipway/internal/testca"
)

// CA is a certificate authority made by a test, its certificate on disk.
type CA struct {
	*testca.CA
	// File is its PEM certificate on disk (the bytes of PEM).
	File string
}

// MustCA makes a CA named name and writes its certificate into dir.
func MustCA(tb testing.TB, dir, name string) *CA {
	tb.Helper()
	ca := &CA{CA: testca.MustNew(tb, name+" "+RandomHex(4)), File: filepath.Join(dir, "ca-"+RandomHex(3)+".pem")}
	testca.MustWrite(tb, ca.File, ca.PEM)
	return ca
}

// MustServerCert issues a certificate for 127.0.0.1, ::1 and localhost and
// writes it and its key into dir (server.crt, server.key).
func (ca *CA) MustServerCert(tb testing.TB, dir string) (certFile, keyFile string) {
	tb.Helper()
	return ca.IssueNow(tb, serverNames...).Write(tb, dir, "server")
}

// serverNames are the names a registry's certificate is for.
var serverNames = []string{"127.0.0.1", "::1", "localhost"}
