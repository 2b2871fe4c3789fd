package testca_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/internal/testca"
)

// TestHandshake runs real mutual-TLS handshakes on loopback between
// certificates of one CA and of another: a server certificate for the
// address and a client certificate of the CA pass, and the client's user
// and groups arrive; an expired certificate, a wrong name or another CA
// fail.
func TestHandshake(t *testing.T) {
	ca, other := testca.MustNew(t, "testca test"), testca.MustNew(t, "someone else")
	client := ca.IssueClient(t, "alice", "system:masters", "dev")
	tests := []struct {
		name       string
		server     testca.Leaf
		serverName string
		client     testca.Leaf
		wantErr    bool
	}{
		{name: "server and client of the CA", server: ca.IssueNow(t, "127.0.0.1", "localhost"), serverName: "localhost", client: client},
		{name: "by IP address", server: ca.IssueNow(t, "127.0.0.1"), client: client},
		{name: "server expired", server: ca.Issue(t, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour), "127.0.0.1"), client: client, wantErr: true},
		{name: "server of another name", server: ca.IssueNow(t, "example.com"), client: client, wantErr: true},
		{name: "server of another CA", server: other.IssueNow(t, "127.0.0.1"), client: client, wantErr: true},
		{name: "client of another CA", server: ca.IssueNow(t, "127.0.0.1"), client: other.IssueClient(t, "alice"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peer, err := handshake(t, ca, tt.server, tt.client, tt.serverName)
			if tt.wantErr {
				if err == nil {
					t.Fatal("handshake succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			if org := peer.Subject.Organization; peer.Subject.CommonName != "alice" || len(org) != 2 || !slices.Contains(org, "system:masters") || !slices.Contains(org, "dev") {
				t.Errorf("server saw client %v, want alice in system:masters and dev", peer.Subject)
			}
		})
	}
}

// handshake serves server on a loopback listener requiring a client
// certificate of ca, dials it with client, and returns the client
// certificate the server saw.
func handshake(t *testing.T, ca *testca.CA, server, client testca.Leaf, serverName string) (*x509.Certificate, error) {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{server.TLS(t)}, ClientCAs: ca.Pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type result struct {
		peer *x509.Certificate
		err  error
	}
	seen := make(chan result, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			seen <- result{err: err}
			return
		}
		defer c.Close()
		tc := c.(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			seen <- result{err: err}
			return
		}
		seen <- result{peer: tc.ConnectionState().PeerCertificates[0]}
	}()
	cfg := ca.ClientConfig()
	cfg.Certificates, cfg.ServerName = []tls.Certificate{client.TLS(t)}, serverName
	d := &net.Dialer{Timeout: 10 * time.Second}
	conn, dialErr := tls.DialWithDialer(d, "tcp", l.Addr().String(), cfg)
	if dialErr == nil {
		// TLS 1.3 reports a refused client certificate on the first read.
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _ = conn.Read(make([]byte, 1))
		_ = conn.Close()
	}
	r := <-seen
	return r.peer, errors.Join(dialErr, r.err)
}
