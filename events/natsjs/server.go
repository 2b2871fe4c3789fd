package natsjs

import (
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// ServerConfig configures the embedded NATS server of `slipway up`.
type ServerConfig struct {
	// Dir is the JetStream store directory.
	Dir string
	// Host and Port to listen on; Port -1 picks a free port, 0 means 4222.
	Host string
	Port int
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

// Connect opens a client connection that keeps reconnecting while the server
// is away (a restart, a cluster node lost).
func Connect(url, name string) (*nats.Conn, error) {
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.RetryOnFailedConnect(true),
	)
	if err != nil {
		return nil, fmt.Errorf("connect to nats %s: %w", url, err)
	}
	return nc, nil
}
