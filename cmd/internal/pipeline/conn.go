package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
)

// Conn is a component's connection to JetStream with the resources
// provisioned.
type Conn struct {
	URL  string
	NC   *nats.Conn
	JS   jetstream.JetStream
	name string
	opts []nats.Option
	// identity names the worker across its restarts ("up/<id>" for the
	// `slipway up` holding its data directory, "<component>/<-worker-id>");
	// empty for none. Its leases carry it with bootID (succession.go).
	identity string
}

// Dial connects to url and provisions the stream, consumers and buckets.
// Components dial; operator commands Attach. opts authenticate (see
// NATSAuth.Options).
func Dial(ctx context.Context, url, name string, topo natsjs.Topology, opts ...nats.Option) (*Conn, error) {
	c, err := Attach(url, name, append(opts, logAsyncErrors(ctx))...)
	if err != nil {
		return nil, err
	}
	if err := natsjs.Provision(ctx, c.JS, topo); err != nil {
		if errors.Is(c.NC.LastError(), nats.ErrPermissionViolation) {
			err = fmt.Errorf("%w (these credentials may not provision; run with -provision=false against a Slipway that provisions)", err)
		}
		c.NC.Close()
		return nil, err
	}
	return c, nil
}

// Attach connects to url without provisioning anything, so an operator
// command never changes the settings of a running Slipway's stream,
// consumers or buckets.
func Attach(url, name string, opts ...nats.Option) (*Conn, error) {
	nc, err := natsjs.Connect(url, name, opts...)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	return &Conn{URL: url, NC: nc, JS: js, name: name, opts: opts}, nil
}

// AttachRole connects as a component without provisioning, after checking
// that the stream, consumers and buckets exist (a Slipway with the right
// to provision, `slipway up`, made them).
func AttachRole(ctx context.Context, url, name string, opts ...nats.Option) (*Conn, error) {
	c, err := Attach(url, name, append(opts, logAsyncErrors(ctx))...)
	if err != nil {
		return nil, err
	}
	if err := natsjs.CheckProvisioned(ctx, c.JS); err != nil {
		c.NC.Close()
		return nil, err
	}
	return c, nil
}

// RoleOptions are the connection options of a component: its inbox prefix
// (natsjs.InboxPrefix), then auth.
func RoleOptions(role natsjs.Role, auth ...nats.Option) []nats.Option {
	return append([]nats.Option{nats.CustomInboxPrefix(natsjs.InboxPrefix(role))}, auth...)
}

// OperatorOptions are the connection options of an operator's command:
// the NATS settings given, or else the admin key `slipway up` wrote under
// the data directory, when there is one.
func OperatorOptions(cfg *Config) ([]nats.Option, error) {
	if !cfg.NATSAuth.Empty() {
		return cfg.NATSAuth.Options()
	}
	opts, err := cfg.NATSAuth.Options() // TLS settings only
	if err != nil {
		return nil, err
	}
	seed := filepath.Join(cfg.DataDir, natsjs.KeysDirName, string(natsjs.RoleAdmin)+".nk")
	if _, err := os.Stat(seed); err != nil {
		return opts, nil
	}
	opt, err := natsjs.SeedOption(seed)
	if err != nil {
		return nil, err
	}
	return append(opts, opt), nil
}

// AttachOperator connects an operator's command named name to the Slipway
// of cfg (OperatorOptions).
func AttachOperator(cfg *Config, name string) (*Conn, error) {
	opts, err := OperatorOptions(cfg)
	if err != nil {
		return nil, err
	}
	return Attach(cfg.NATSURL, name, opts...)
}

// Close drains the connection.
func (c *Conn) Close() error { return c.NC.Drain() }

// runner returns a watermill runner consuming on connections of its own.
func (c *Conn) runner(ctx context.Context, cfg *Config) *natsjs.Runner {
	return &natsjs.Runner{
		Connect:      func() (*nats.Conn, error) { return natsjs.Connect(c.URL, c.name+"-consumer", c.opts...) },
		Conn:         c.NC,
		Log:          *logger(ctx),
		AckWait:      cfg.Topology.AckWait,
		CloseTimeout: cfg.Topology.AckWait,
	}
}

// claims returns the claims store held in this process's name, its
// completed builds and deploys expiring as the bucket says.
func (c *Conn) claims(ctx context.Context) (*natsstore.Claims, error) {
	claims, err := natsstore.OpenClaims(ctx, c.JS, holderID(c.name))
	if err != nil {
		return nil, err
	}
	return claims.Succeeding(c.identity, bootID), nil
}

// Envs returns the environment store.
func (c *Conn) Envs(ctx context.Context) (*natsstore.EnvStore, error) {
	kv, err := c.JS.KeyValue(ctx, natsjs.BucketEnvs)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", natsjs.BucketEnvs, err)
	}
	return natsstore.NewEnvStore(kv), nil
}

// holderID names this process in claims: host, pid and a random part, so a
// restarted process never mistakes a dead predecessor's lease for its own.
func holderID(component string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%s/%d/%s", component, host, os.Getpid(), uuid.NewString()[:8])
}
