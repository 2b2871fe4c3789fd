package pipeline

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

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

// listenAPI binds the API's listener, when configured.
func (u *Up) listenAPI() error {
	if u.Config.API.Addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", u.Config.API.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", u.Config.API.Addr, err)
	}
	u.apiLn = ln
	return nil
}

// APIURL is the base URL of the API and the dashboard, "" when disabled.
func (u *Up) APIURL() string {
	if u.apiLn == nil {
		return ""
	}
	return "http://" + u.apiLn.Addr().String()
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

// serveAPI serves the API and the dashboard on ln until ctx ends. There
// is no write timeout: /events streams for as long as a page is open.
func serveAPI(ctx context.Context, c *Conn, ln net.Listener) error {
	h, err := APIHandler(ctx, c)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10, BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve api %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx) // open event streams end with the listener
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
