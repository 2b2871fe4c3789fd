package natsjs

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// ServerConfig configures the embedded NATS server of `slipway up`.
type ServerConfig struct {
	// Dir is the JetStream store directory.
	Dir string
	// Host and Port to listen on; Port -1 picks a free port, 0 means 4222.
	// Host defaults to 127.0.0.1; any other address needs Keys.
	Host string
	Port int
	// Keys, when set, are the only way in: a client authenticates with the
	// seed of a role and gets that role's permissions (RolePermissions).
	// Without them the server accepts anyone, so it listens on loopback
	// only (the tests' servers).
	Keys *Keys
	// Consumers are the durable consumers the roles pull (Topology's):
	// each role may pull and acknowledge only its own.
	Consumers []Consumer
	// SyncAlways fsyncs every write before acknowledging it. The default
	// (false) syncs every SyncInterval (2 minutes by default); acknowledged
	// writes younger than that can be lost on power loss (Jepsen, NATS
	// 2.12.1, 2025).
	SyncAlways   bool
	SyncInterval time.Duration
}

// StartServer starts an embedded NATS server with JetStream and waits until it
// accepts connections.
func StartServer(cfg ServerConfig) (*server.Server, error) {
	opts := &server.Options{
		ServerName:   "slipway",
		Host:         cfg.Host,
		Port:         cfg.Port,
		JetStream:    true,
		StoreDir:     cfg.Dir,
		SyncAlways:   cfg.SyncAlways,
		SyncInterval: cfg.SyncInterval,
		NoSigs:       true,
		NoLog:        true,
		MaxPayload:   8 << 20,
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if cfg.Keys != nil {
		opts.Nkeys = cfg.Keys.users(cfg.Consumers)
	} else if !isLoopback(opts.Host) {
		return nil, fmt.Errorf("nats server on %s: listening beyond loopback needs credentials", opts.Host)
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("new nats server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("nats server in %s not ready after 30s", cfg.Dir)
	}
	return s, nil
}

// isLoopback reports whether host names only loopback addresses.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Connect opens a client connection that keeps reconnecting while the server
// is away (a restart, a cluster node lost). opts add authentication and TLS.
// A server that refuses the credentials or the TLS handshake is an error
// at once, naming the server; a server not yet up is waited for.
func Connect(rawURL, name string, opts ...nats.Option) (*nats.Conn, error) {
	base := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.Timeout(5 * time.Second),
	}
	opts = append(base, opts...)
	nc, err := nats.Connect(rawURL, opts...)
	if errors.Is(err, nats.ErrNoServers) {
		// Not up yet: connect in the background, like a reconnect.
		nc, err = nats.Connect(rawURL, append(opts, nats.RetryOnFailedConnect(true))...)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to nats %s: %s", RedactURL(rawURL), describeConnectErr(err))
	}
	return nc, nil
}

// describeConnectErr says what is wrong with a failed connection, without
// repeating anything secret.
func describeConnectErr(err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired),
		errors.Is(err, nats.ErrAuthRevoked), errors.Is(err, nats.ErrAccountAuthExpired):
		return "the server refused the credentials (" + msg + ")"
	case strings.Contains(msg, "tls:"), strings.Contains(msg, "tls error"), strings.Contains(msg, "x509:"), errors.Is(err, nats.ErrSecureConnRequired),
		errors.Is(err, nats.ErrSecureConnWanted):
		return "TLS failed (" + msg + ")"
	}
	return msg
}

// RedactURL strips user information from every URL of a comma-separated
// server list, for logs and errors.
func RedactURL(servers string) string {
	parts := strings.Split(servers, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil || u.Host == "" {
			if strings.Contains(p, "@") {
				parts[i] = "<unparsable url>"
			}
			continue
		}
		if u.User != nil {
			u.User = url.User("***")
		}
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}
