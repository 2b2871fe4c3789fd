package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/nats-io/nats-server/v2/server"
	"golang.org/x/sync/errgroup"

	"github.com/slipway-dev/slipway/events/natsjs"
)

// Up is `slipway up`: ingest, builder and deployer in one process, with an
// embedded NATS server unless Config.NATSURL names an external one.
type Up struct {
	Config Config

	server *server.Server
	conn   *Conn
	ln     net.Listener
}

// Open starts the embedded server, connects, provisions and binds the
// webhook listener, so that Run can be called and webhooks can be sent.
func (u *Up) Open(ctx context.Context) error {
	if err := u.Config.LoadRepoSecretsFile(); err != nil {
		return err
	}
	if err := u.Config.Validate(); err != nil {
		return err
	}
	url := u.Config.NATSURL
	if url == "" {
		s, err := natsjs.StartServer(natsjs.ServerConfig{
			Dir: u.Config.DataDir, Port: u.Config.NATSPort, SyncAlways: u.Config.SyncAlways,
		})
		if err != nil {
			return err
		}
		u.server, url = s, s.ClientURL()
		logger(ctx).Info().Str("url", url).Str("dir", u.Config.DataDir).Msg("embedded NATS started")
	}
	c, err := Dial(ctx, url, "slipway-up", u.Config.Topology)
	if err != nil {
		return errors.Join(err, u.Close())
	}
	u.conn = c
	ln, err := net.Listen("tcp", u.Config.HTTPAddr)
	if err != nil {
		return errors.Join(fmt.Errorf("listen %s: %w", u.Config.HTTPAddr, err), u.Close())
	}
	u.ln = ln
	return nil
}

// Run runs every component until ctx ends or one fails. A component that
// panics is restarted alone (see supervise).
func (u *Up) Run(ctx context.Context) error {
	return runComponents(ctx, map[string]func(context.Context) error{
		"ingest":   func(ctx context.Context) error { return RunIngest(ctx, &u.Config, u.conn, u.ln) },
		"builder":  func(ctx context.Context) error { return RunBuilder(ctx, &u.Config, u.conn) },
		"deployer": func(ctx context.Context) error { return RunDeployer(ctx, &u.Config, u.conn) },
	})
}

// runComponents runs each component, supervised, until ctx ends or one
// returns an error, which stops the others.
func runComponents(ctx context.Context, components map[string]func(context.Context) error) error {
	g, ctx := errgroup.WithContext(ctx)
	for name, run := range components {
		g.Go(func() error { return supervise(ctx, name, run) })
	}
	return g.Wait()
}

// IngestURL is the base URL of the webhook receiver.
func (u *Up) IngestURL() string { return "http://" + u.ln.Addr().String() }

// NATSURL is the URL of the NATS server in use.
func (u *Up) NATSURL() string { return u.conn.URL }

// Conn is the process's JetStream connection.
func (u *Up) Conn() *Conn { return u.conn }

// Close drains the connection and stops the embedded server.
func (u *Up) Close() error {
	var errs []error
	if u.conn != nil {
		errs = append(errs, u.conn.Close())
	}
	if u.server != nil {
		u.server.Shutdown()
		u.server.WaitForShutdown()
	}
	return errors.Join(errs...)
}
