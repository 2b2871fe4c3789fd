// Package acmetest gives tests certificate authorities of their own: a
// plain one issuing certificates for files (MustCA) and a Pebble ACME
// server run in-process whose validation authority resolves every name to
// 127.0.0.1 and performs real http-01 challenges (MustPebble). Everything
// listens on loopback only.
package acmetest
