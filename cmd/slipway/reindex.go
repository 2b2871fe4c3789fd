package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
)

func reindexCommand() *ffcli.Command {
	cfg := pipeline.DefaultConfig()
	fs := flag.NewFlagSet("slipway reindex", flag.ContinueOnError)
	n := bindOperatorNATSTo(fs, &cfg)
	return &ffcli.Command{
		Name:       "reindex",
		ShortUsage: "slipway reindex [flags]",
		ShortHelp:  "rebuild the read model (history, builds, environments) from the stream",
		LongHelp: "Empties the read model's buckets and folds every event stream SLIPWAY holds into them\n" +
			"again; returns when done. Events the stream dropped (-stream-max-age, -stream-max-bytes)\n" +
			"are gone from the rebuilt model too.",
		FlagSet: fs,
		Options: pipeline.Options(),
		Exec: func(ctx context.Context, args []string) (err error) {
			if len(args) != 0 {
				return fmt.Errorf("reindex: want no argument: %w", flag.ErrHelp)
			}
			c, err := n.attach("slipway-reindex")
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, c.Close()) }()
			return reindex(ctx, c, &cfg, os.Stdout)
		},
	}
}

// reindex rebuilds the read model and says how many events it folded.
func reindex(ctx context.Context, c *pipeline.Conn, cfg *pipeline.Config, out io.Writer) error {
	start := time.Now()
	n, err := pipeline.Reindex(ctx, cfg, c)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "==> read model rebuilt from %d events in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}
