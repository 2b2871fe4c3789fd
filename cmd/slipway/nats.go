package main

import (
	"errors"
	"flag"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
)

const defaultNATSURL = "nats://127.0.0.1:4222"

// operatorNATS is how an operator's command reaches the running Slipway:
// -nats-url and the NATS credentials, or else the admin key `slipway up`
// keeps in <data-dir>/auth. Without -nats-url (or SLIPWAY_NATS_URL) the URL
// is the one `slipway up` wrote to <data-dir>/up.json.
type operatorNATS struct {
	cfg *pipeline.Config
	fs  *flag.FlagSet
}

// bindOperatorNATS binds the NATS settings of an operator's command to fs.
func bindOperatorNATS(fs *flag.FlagSet) *operatorNATS {
	cfg := pipeline.DefaultConfig()
	return bindOperatorNATSTo(fs, &cfg)
}

// bindOperatorNATSTo binds them into cfg, for the commands that keep one.
func bindOperatorNATSTo(fs *flag.FlagSet, cfg *pipeline.Config) *operatorNATS {
	cfg.NATSURL = defaultNATSURL
	fs.StringVar(&cfg.NATSURL, "nats-url", cfg.NATSURL, "NATS URL of the running Slipway (default: the one slipway up wrote to <data-dir>/up.json, else "+defaultNATSURL+")")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "data directory of slipway up, whose admin key (auth/admin.nk) authenticates when no NATS credentials are given")
	cfg.NATSAuth.Bind(fs)
	return &operatorNATS{cfg: cfg, fs: fs}
}

// attach connects as name.
func (o *operatorNATS) attach(name string) (*pipeline.Conn, error) {
	if err := o.fromState(); err != nil {
		return nil, err
	}
	return pipeline.AttachOperator(o.cfg, name)
}

// with connects as name, runs fn and closes the connection, joining the
// error of the close to fn's: the preamble of the commands that talk to
// NATS.
func (o *operatorNATS) with(name string, fn func(c *pipeline.Conn) error) (err error) {
	c, err := o.attach(name)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, c.Close()) }()
	return fn(c)
}

// fromState takes the settings not given as flags from the state file of
// `slipway up`, when there is one.
func (o *operatorNATS) fromState() error {
	st, ok, err := pipeline.ReadState(o.cfg.DataDir)
	if err != nil || !ok {
		return err
	}
	if !isSet(o.fs, "nats-url") && st.NATSURL != "" {
		o.cfg.NATSURL = st.NATSURL
	}
	if o.fs.Lookup("proxy-addr") != nil && !isSet(o.fs, "proxy-addr") && st.ProxyAddr != "" {
		o.cfg.ProxyAddr = st.ProxyAddr
	}
	if o.fs.Lookup("proxy-domain") != nil && !isSet(o.fs, "proxy-domain") && st.ProxyDomain != "" {
		o.cfg.ProxyDomain = st.ProxyDomain
	}
	return nil
}

// isSet reports whether the flag name was given, on the command line or by
// its environment fallback.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
