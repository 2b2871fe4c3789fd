package pipeline

import (
	"context"
	"flag"
	"fmt"
	"net/http"

	"github.com/slipway-dev/slipway/actions"
	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/dashboard"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// APIConfig configures the HTTP server of the API and the dashboard. It
// is off in DefaultConfig (a test or an embedding program asks for it);
// `slipway up`'s -api-addr defaults to DefaultAPIAddr.
type APIConfig struct {
	// Addr is where it listens; empty disables it. Loopback by default:
	// another address is the operator's choice (behind a TLS proxy).
	Addr string
}

// DefaultAPIAddr is where `slipway up` serves the API and the dashboard.
const DefaultAPIAddr = "127.0.0.1:7070"

// Bind binds the API's settings.
func (a *APIConfig) Bind(fs *flag.FlagSet) {
	fs.StringVar(&a.Addr, "api-addr", DefaultAPIAddr, "address of the HTTP API (/api/v1) and the dashboard (/); loopback unless you put a TLS proxy in front; empty disables it")
}

// httpAddr is the address of the process's one HTTP server (HTTP):
// -api-addr, or -metrics-addr when only it is set.
func (c *Config) httpAddr() string {
	if c.API.Addr != "" {
		return c.API.Addr
	}
	return c.MetricsAddr
}

// validateHTTP refuses two addresses for the one HTTP server.
func (c *Config) validateHTTP() error {
	if c.API.Addr != "" && c.MetricsAddr != "" && c.API.Addr != c.MetricsAddr {
		return fmt.Errorf("-api-addr %s and -metrics-addr %s: /metrics, the API and the dashboard share one server; set one", c.API.Addr, c.MetricsAddr)
	}
	return nil
}

// mountAPI adds the API (/api/v1) and the dashboard (every other path but
// /metrics) to h, on c, an admin connection; nothing when -api-addr is
// empty.
func (h *HTTP) mountAPI(ctx context.Context, cfg *Config, c *Conn) error {
	if cfg.API.Addr == "" {
		return nil
	}
	handler, err := APIHandler(ctx, c)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	h.Mux.Handle("/", handler) // /api/v1/... and the pages; GET /metrics stays the metrics'

	return nil
}

// APIURL is the base URL of the API and the dashboard, "" when disabled.
func (u *Up) APIURL() string {
	if u.HTTP == nil || u.Config.API.Addr == "" {
		return ""
	}
	return u.HTTP.URL()
}

// APIHandler returns the handler of the API (/api/v1) and the dashboard
// (everything else) on c, an admin connection.
func APIHandler(ctx context.Context, c *Conn) (http.Handler, error) {
	m, err := c.ReadModel(ctx)
	if err != nil {
		return nil, err
	}
	tokens, err := api.OpenTokens(ctx, c.JS)
	if err != nil {
		return nil, err
	}
	claims, err := c.Claims(ctx)
	if err != nil {
		return nil, err
	}
	bus := actions.Bus{JS: c.JS, Claims: claims, Source: "/slipway/api", History: m}
	d := &dashboard.Dashboard{Model: m, Tokens: tokens, Bus: bus, Version: func(ctx context.Context) (uint64, error) {
		return readModelVersion(ctx, c)
	}}
	pages, err := d.Handler()
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(api.Prefix+"/", (&api.Server{Model: m, Tokens: tokens, Bus: bus}).Handler())
	mux.Handle("/", pages)
	return withLogger(*logger(ctx), mux), nil
}

// readModelVersion is the position of the read model's projector in
// stream SLIPWAY: it moves whenever the read model does.
func readModelVersion(ctx context.Context, c *Conn) (uint64, error) {
	cons, err := c.JS.Consumer(ctx, natsjs.StreamName, ConsumerReadModel)
	if err != nil {
		return 0, err
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.AckFloor.Stream, nil
}
