package acmetest

import (
	"testing"

	"github.com/slipway-dev/slipway/internal/testca"
)

// CA is a certificate authority made by a test (testca's).
type CA = testca.CA

// Leaf is a certificate of a CA and its key, PEM-encoded.
type Leaf = testca.Leaf

// MustCA returns a new certificate authority.
func MustCA(tb testing.TB) *CA {
	tb.Helper()
	return testca.MustNew(tb, "slipway test CA")
}

// MustWrite writes data to path, readable by its owner only.
func MustWrite(tb testing.TB, path string, data []byte) {
	tb.Helper()
	testca.MustWrite(tb, path, data)
}
