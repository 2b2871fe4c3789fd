package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// DefaultShutdownTimeout bounds how long Run waits for requests in flight
// when its context is cancelled.
const DefaultShutdownTimeout = 10 * time.Second

// Server serves a Proxy (or any handler) until its context is cancelled.
type Server struct {
	// Addr is the address to listen on, e.g. "127.0.0.1:8080".
	Addr string
	// Handler serves every request, usually a *Proxy.
	Handler http.Handler
	// ShutdownTimeout bounds the drain on shutdown; zero means
	// DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// TLSConfig, when set, makes the server speak HTTPS with it
	// (HTTPS.TLSConfig).
	TLSConfig *tls.Config
}

// Run listens on Addr and serves until ctx is cancelled, then drains.
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is cancelled, then stops accepting, waits
// for requests in flight at most ShutdownTimeout and closes ln. The
// requests' contexts carry ctx's logger. It returns nil after a clean
// shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		TLSConfig:         s.TLSConfig,
		ErrorLog:          handshakeLog(ctx),
	}
	done := make(chan error, 1)
	go func() {
		if s.TLSConfig != nil {
			done <- srv.ServeTLS(ln, "", "")
			return
		}
		done <- srv.Serve(ln)
	}()
	zerolog.Ctx(ctx).Info().Str("addr", ln.Addr().String()).Bool("tls", s.TLSConfig != nil).Msg("proxy listening")
	select {
	case err := <-done:
		return fmt.Errorf("serve proxy: %w", err)
	case <-ctx.Done():
	}
	return s.shutdown(ctx, srv, done)
}

// shutdown drains srv, then closes what is left.
func (s *Server) shutdown(ctx context.Context, srv *http.Server, done <-chan error) error {
	timeout := s.ShutdownTimeout
	if timeout <= 0 {
		timeout = DefaultShutdownTimeout
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("drain proxy: %w", err), srv.Close())
	}
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// handshakeLog returns the http.Server error log: its lines (TLS handshakes
// refused for a name the proxy does not serve, clients gone) go to ctx's
// logger at debug level, since anyone on the network can cause them.
func handshakeLog(ctx context.Context) *log.Logger {
	return log.New(debugWriter{zerolog.Ctx(ctx)}, "", 0)
}

// debugWriter writes each line it is given as a debug message.
type debugWriter struct{ log *zerolog.Logger }

func (w debugWriter) Write(p []byte) (int, error) {
	w.log.Debug().Msg("proxy: " + strings.TrimSpace(string(p)))
	return len(p), nil
}
