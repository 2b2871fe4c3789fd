package pipeline

import (
	"context"
	"fmt"
	"net"
	"net/http"

	"github.com/slipway-dev/slipway/metrics"
)

// observed is p, observed by the process's metrics when it has some.
func (c *Config) observed(p metrics.Publisher) metrics.Publisher {
	if c.Metrics == nil {
		return p
	}
	return c.Metrics.Publishing(p)
}

// observeWebhooks counts the webhooks h answers, when the process has
// metrics.
func (c *Config) observeWebhooks(h http.Handler) http.Handler {
	if c.Metrics == nil {
		return h
	}
	forges, err := Forges(c.Webhooks)
	if err != nil {
		return h
	}
	return c.Metrics.Webhooks(forges.Names(), h)
}

// watchJetStream adds the gauges of the consumers, dead letters and
// environments read through c, when the process has metrics.
func (c *Config) watchJetStream(ctx context.Context, conn *Conn) error {
	if c.Metrics == nil {
		return nil
	}
	m, err := conn.ReadModel(ctx)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(consumers))
	for _, cs := range consumers {
		names = append(names, cs.Name)
	}
	c.Metrics.WatchJetStream(conn.JS, m, names)
	return nil
}

// HTTP is the process's own HTTP server on -metrics-addr: /metrics, and
// the routes others add to Mux before Serve.
type HTTP struct {
	Mux *http.ServeMux
	ln  net.Listener
}

// listenHTTP binds cfg.MetricsAddr and routes /metrics; nil when no
// address is configured.
func listenHTTP(cfg *Config) (*HTTP, error) {
	addr := cfg.httpAddr()
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	cfg.Metrics = metrics.New()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", cfg.Metrics.Handler())
	return &HTTP{Mux: mux, ln: ln}, nil
}

// URL is the server's base URL.
func (h *HTTP) URL() string { return "http://" + h.ln.Addr().String() }

// Serve serves Mux until ctx ends.
func (h *HTTP) Serve(ctx context.Context, cfg *Config) error {
	return serve(ctx, h.ln, h.Mux, cfg.Receiver)
}
