package pipeline

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/peterbourgon/ff/v3"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events/natsjs"
)

// Component runs one part of Slipway on a connection until ctx ends.
type Component func(ctx context.Context, cfg *Config, c *Conn) error

// Main is the composition root of a single-component binary (cmd/ingest,
// cmd/builder, cmd/deployer): flags, logger, connection, run, drain.
type Main struct {
	Name   string
	Bind   func(cfg *Config, fs *flag.FlagSet)
	Run    Component
	Config Config
	Stderr io.Writer

	log  zerolog.Logger
	conn *Conn
}

// ParseFlags reads flags, then SLIPWAY_* environment variables, then the
// -config file (one "flag value" per line).
func (m *Main) ParseFlags(args []string) error {
	m.Config = DefaultConfig()
	fs := flag.NewFlagSet(m.Name, flag.ContinueOnError)
	m.Config.BindNATS(fs)
	m.Bind(&m.Config, fs)
	fs.BoolVar(&m.Config.Provision, "provision", m.Config.Provision, "create or update the stream, consumers and buckets at start (false with the per-component keys of slipway up's server, which provisions)")
	fs.String("config", "", "configuration file, one `flag value` per line")
	if err := ParseFlagSet(fs, args); err != nil {
		return err
	}
	if m.Config.NATSURL == "" {
		return fmt.Errorf("%s: -nats-url (SLIPWAY_NATS_URL) is required", m.Name)
	}
	if err := m.Config.LoadRepoSecretsFile(); err != nil {
		return err
	}
	if err := m.Config.Validate(); err != nil {
		return err
	}
	log, err := NewLogger(m.Stderr, m.Config.LogLevel, m.Config.LogFormat)
	m.log = log.With().Str("component", m.Name).Logger()
	WarnSecretFlags(&m.log, args)
	return err
}

// ParseFlagSet parses args with SLIPWAY_* environment fallbacks and the
// -config file.
func ParseFlagSet(fs *flag.FlagSet, args []string) error {
	return ff.Parse(fs, args, Options()...)
}

// Options are the ff options of every Slipway command.
func Options() []ff.Option {
	return []ff.Option{
		ff.WithEnvVarPrefix("SLIPWAY"),
		ff.WithConfigFileFlag("config"),
		ff.WithConfigFileParser(ff.PlainParser),
		ff.WithAllowMissingConfigFile(false),
	}
}

// Start connects; Run may then be called.
func (m *Main) Start(ctx context.Context) (context.Context, error) {
	ctx = m.log.WithContext(ctx)
	auth, err := m.Config.NATSAuth.Options()
	if err != nil {
		return ctx, err
	}
	opts := RoleOptions(natsjs.Role(m.Name), auth...)
	var c *Conn
	if m.Config.Provision {
		c, err = Dial(ctx, m.Config.NATSURL, m.Name, m.Config.Topology, opts...)
	} else {
		c, err = AttachRole(ctx, m.Config.NATSURL, m.Name, opts...)
	}
	if err != nil {
		return ctx, err
	}
	if m.Config.WorkerID != "" {
		c.identity = m.Name + "/" + m.Config.WorkerID
	}
	m.conn = c
	return ctx, nil
}

// Close drains the connection.
func (m *Main) Close() error {
	if m.conn == nil {
		return nil
	}
	return m.conn.Close()
}

// Exec runs a Main as a process: signals end it, errors exit non-zero.
func (m *Main) Exec() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := m.ParseFlags(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "%s: %v\n", m.Name, err)
		os.Exit(2)
	}
	ctx, err := m.Start(ctx)
	if err == nil {
		err = m.Run(ctx, &m.Config, m.conn)
	}
	err = errors.Join(err, m.Close())
	if err != nil && !errors.Is(err, context.Canceled) {
		m.log.Error().Err(err).Msg("exiting")
		os.Exit(1)
	}
}

// ListenAndRunIngest is the ingest Component: it listens on Config.HTTPAddr.
func ListenAndRunIngest(ctx context.Context, cfg *Config, c *Conn) error {
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.HTTPAddr, err)
	}
	return RunIngest(ctx, cfg, c, ln)
}
