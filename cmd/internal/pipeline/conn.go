package pipeline

import (
	"context"
	"fmt"
	"os"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events/natsjs"
)

// Conn is a component's connection to JetStream with the resources
// provisioned.
type Conn struct {
	URL  string
	NC   *nats.Conn
	JS   jetstream.JetStream
	name string
}

// Dial connects to url and provisions the stream, consumers and buckets.
// Components dial; operator commands Attach.
func Dial(ctx context.Context, url, name string, topo natsjs.Topology) (*Conn, error) {
	c, err := Attach(url, name)
	if err != nil {
		return nil, err
	}
	if err := natsjs.Provision(ctx, c.JS, topo); err != nil {
		c.NC.Close()
		return nil, err
	}
	return c, nil
}

// Attach connects to url without provisioning anything, so an operator
// command never changes the settings of a running Slipway's stream,
// consumers or buckets.
func Attach(url, name string) (*Conn, error) {
	nc, err := natsjs.Connect(url, name)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	return &Conn{URL: url, NC: nc, JS: js, name: name}, nil
}

// Close drains the connection.
func (c *Conn) Close() error { return c.NC.Drain() }

// runner returns a watermill runner consuming on connections of its own.
func (c *Conn) runner(cfg *Config, ctx context.Context) *natsjs.Runner {
	return &natsjs.Runner{
		Connect:      func() (*nats.Conn, error) { return natsjs.Connect(c.URL, c.name+"-consumer") },
		Conn:         c.NC,
		Log:          *logger(ctx),
		AckWait:      cfg.Topology.AckWait,
		CloseTimeout: cfg.Topology.AckWait,
	}
}

// claims returns the claims store held in this process's name.
func (c *Conn) claims(ctx context.Context) (*natsjs.Claims, error) {
	kv, err := c.JS.KeyValue(ctx, natsjs.BucketClaims)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", natsjs.BucketClaims, err)
	}
	return natsjs.NewClaims(kv, holderID(c.name)), nil
}

// Envs returns the environment store.
func (c *Conn) Envs(ctx context.Context) (*natsjs.EnvStore, error) {
	kv, err := c.JS.KeyValue(ctx, natsjs.BucketEnvs)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", natsjs.BucketEnvs, err)
	}
	return natsjs.NewEnvStore(kv), nil
}

// holderID names this process in claims: host, pid and a random part, so a
// restarted process never mistakes a dead predecessor's lease for its own.
func holderID(component string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%s/%d/%s", component, host, os.Getpid(), uuid.NewString()[:8])
}
