package main

import (
	"context"
	"errors"
	"flag"
	"os"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
)

func upCommand() *ffcli.Command {
	cfg := pipeline.DefaultConfig()
	fs := flag.NewFlagSet("slipway up", flag.ContinueOnError)
	bindAll(&cfg, fs)
	return &ffcli.Command{
		Name:       "up",
		ShortUsage: "slipway up [flags]",
		ShortHelp:  "run ingest, builder and deployer in one process with embedded NATS",
		FlagSet:    fs,
		Options:    pipeline.Options(),
		Exec: func(ctx context.Context, _ []string) error {
			log, err := pipeline.NewLogger(os.Stderr, cfg.LogLevel, cfg.LogFormat)
			if err != nil {
				return err
			}
			ctx = log.WithContext(ctx)
			pipeline.WarnSecretFlags(&log, os.Args[1:])
			up := &pipeline.Up{Config: cfg}
			if err := up.Open(ctx); err != nil {
				return err
			}
			up.LogHooks(ctx)
			log.Info().Str("webhooks", up.IngestURL()+"/webhooks/<forge>").Str("dashboard", up.APIURL()).Msg("slipway is up")
			return errors.Join(up.Run(ctx), up.Close())
		},
	}
}

// bindAll binds every setting of `slipway up`.
func bindAll(cfg *pipeline.Config, fs *flag.FlagSet) {
	cfg.BindNATS(fs)
	cfg.BindEmbedded(fs)
	cfg.BindIngest(fs)
	cfg.BindBuilder(fs)
	cfg.BindDeployer(fs)
	cfg.API.Bind(fs)
	fs.String("config", "", "configuration file, one `flag value` per line")
}
