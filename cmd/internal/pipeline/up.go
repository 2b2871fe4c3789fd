package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"golang.org/x/sync/errgroup"

	"github.com/slipway-dev/slipway/events/natsjs"
)

// Up is `slipway up`: ingest, builder and deployer in one process, with an
// embedded NATS server unless Config.NATSURL names an external one.
type Up struct {
	Config Config

	server *server.Server
	conn   *Conn
	roles  map[natsjs.Role]*Conn
	ln     net.Listener
	lock   *dataDirLock // the embedded server's data directory (succession.go)
	// HTTP is the server on Config.MetricsAddr (nil without one): /metrics,
	// and the routes the API adds to HTTP.Mux before Run.
	HTTP *HTTP
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
	identity := ""
	if u.Config.NATSURL == "" {
		l, err := lockDataDir(u.Config.DataDir)
		if err != nil {
			return err
		}
		u.lock, identity = l, l.identity
	} else if u.Config.WorkerID != "" {
		identity = "up/" + u.Config.WorkerID
	}
	auth, err := u.auth(ctx)
	if err != nil {
		return errors.Join(err, u.Close())
	}
	url := u.Config.NATSURL
	if u.server != nil {
		url = u.server.ClientURL()
	}
	c, err := Dial(ctx, url, "slipway-up", u.Config.Topology, auth(natsjs.RoleAdmin)...)
	if err != nil {
		return errors.Join(err, u.Close())
	}
	u.conn = c
	u.roles = map[natsjs.Role]*Conn{}
	for _, r := range []natsjs.Role{natsjs.RoleIngest, natsjs.RoleBuilder, natsjs.RoleDeployer} {
		rc, err := AttachRole(ctx, url, "slipway-up-"+string(r), RoleOptions(r, auth(r)...)...)
		if err != nil {
			return errors.Join(err, u.Close())
		}
		rc.identity = identity
		u.roles[r] = rc
	}
	ln, err := net.Listen("tcp", u.Config.HTTPAddr)
	if err != nil {
		return errors.Join(fmt.Errorf("listen %s: %w", u.Config.HTTPAddr, err), u.Close())
	}
	u.ln = ln
	st := State{NATSURL: url, HTTPAddr: ln.Addr().String(), ProxyAddr: u.Config.ProxyAddr, ProxyDomain: u.Config.ProxyDomain, DataDir: u.Config.DataDir, PID: os.Getpid()}
	if err := WriteState(u.Config.DataDir, st); err != nil {
		return errors.Join(err, u.Close())
	}
	if u.HTTP, err = listenHTTP(&u.Config); err != nil {
		return errors.Join(err, u.Close())
	}
	return nil
}

// auth starts the embedded server, with a key per role in
// <data-dir>/auth, unless Config.NATSURL names an external one; it returns
// each role's authentication options.
func (u *Up) auth(ctx context.Context) (func(natsjs.Role) []nats.Option, error) {
	if u.Config.NATSURL != "" {
		opts, err := u.Config.NATSAuth.Options()
		return func(natsjs.Role) []nats.Option { return opts }, err
	}
	keys, err := natsjs.EnsureKeys(filepath.Join(u.Config.DataDir, natsjs.KeysDirName))
	if err != nil {
		return nil, err
	}
	opts := map[natsjs.Role][]nats.Option{}
	for _, r := range natsjs.Roles() {
		opt, err := keys.Option(r)
		if err != nil {
			return nil, err
		}
		opts[r] = []nats.Option{opt}
	}
	s, err := natsjs.StartServer(natsjs.ServerConfig{
		Dir: u.Config.DataDir, Host: u.Config.NATSHost, Port: u.Config.NATSPort, Keys: keys, SyncAlways: u.Config.SyncAlways,
		Consumers: u.Config.Topology.Consumers,
	})
	if err != nil {
		return nil, err
	}
	u.server = s
	logger(ctx).Info().Str("url", s.ClientURL()).Str("dir", u.Config.DataDir).Str("keys", keys.Dir).Msg("embedded NATS started")
	return func(r natsjs.Role) []nats.Option { return opts[r] }, nil
}

// Run runs every component, each on a connection of its role, until ctx
// ends or one fails. A component that panics is restarted alone (see
// supervise). The builder and the deployer share one Planning (the mirror
// of -mirror-dir and its build planner, publishing as the builder): a
// commit's slipway.yaml is read once, whichever workflow plans it.
func (u *Up) Run(ctx context.Context) error {
	p, err := builderPlanning(&u.Config, u.roles[natsjs.RoleBuilder])
	if err != nil {
		return err
	}
	components := map[string]func(context.Context) error{
		"ingest":   func(ctx context.Context) error { return RunIngest(ctx, &u.Config, u.roles[natsjs.RoleIngest], u.ln) },
		"builder":  func(ctx context.Context) error { return runBuilder(ctx, &u.Config, u.roles[natsjs.RoleBuilder], p) },
		"deployer": func(ctx context.Context) error { return runDeployer(ctx, &u.Config, u.roles[natsjs.RoleDeployer], p) },
	}
	if u.HTTP != nil {
		if err := u.HTTP.mountAPI(ctx, &u.Config, u.conn); err != nil {
			return err
		}
		components["http"] = func(ctx context.Context) error { return u.HTTP.Serve(ctx, &u.Config) }
	}
	return runComponents(ctx, components)
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

// Conn is the process's admin connection to JetStream, the one that
// provisioned; the components run on connections of their roles.
func (u *Up) Conn() *Conn { return u.conn }

// Close drains the connection and stops the embedded server.
func (u *Up) Close() error {
	var errs []error
	for _, c := range u.roles {
		errs = append(errs, c.Close())
	}
	if u.conn != nil {
		errs = append(errs, u.conn.Close())
	}
	if u.server != nil {
		u.server.Shutdown()
		u.server.WaitForShutdown()
	}
	errs = append(errs, u.lock.Close())
	u.lock = nil
	return errors.Join(errs...)
}
