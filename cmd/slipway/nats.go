package main

import (
	"flag"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
)

const defaultNATSURL = "nats://127.0.0.1:4222"

// operatorNATS is how an operator's command reaches the running Slipway:
// -nats-url and the NATS credentials, or else the admin key `slipway up`
// keeps in <data-dir>/auth.
type operatorNATS struct{ cfg *pipeline.Config }

// bindOperatorNATS binds the NATS settings of an operator's command to fs.
func bindOperatorNATS(fs *flag.FlagSet) *operatorNATS {
	cfg := pipeline.DefaultConfig()
	return bindOperatorNATSTo(fs, &cfg)
}

// bindOperatorNATSTo binds them into cfg, for the commands that keep one.
func bindOperatorNATSTo(fs *flag.FlagSet, cfg *pipeline.Config) *operatorNATS {
	cfg.NATSURL = defaultNATSURL
	fs.StringVar(&cfg.NATSURL, "nats-url", cfg.NATSURL, "NATS URL of the running Slipway")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "data directory of `slipway up`, whose admin key (auth/admin.nk) authenticates when no NATS credentials are given")
	cfg.NATSAuth.Bind(fs)
	return &operatorNATS{cfg: cfg}
}

// attach connects as name.
func (o *operatorNATS) attach(name string) (*pipeline.Conn, error) {
	return pipeline.AttachOperator(o.cfg, name)
}
