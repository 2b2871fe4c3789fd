// Package testca makes throw-away certificate authorities for tests: a CA
// of its own per test (ECDSA P-256, valid a day around now) that signs
// server certificates (for DNS names and IP addresses) and client
// certificates (a user and its groups, as Kubernetes reads them).
//
// Keys are PEM-encoded as PKCS #8 ("PRIVATE KEY"), which Go's crypto/tls,
// Kubernetes, NATS and the distribution registry all load. Nothing here
// is meant for production: keys live in memory and in the files a test
// asks for, readable by their owner only.
package testca
