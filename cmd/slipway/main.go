// Command slipway is the operator's CLI: `slipway up` runs ingest, builder
// and deployer in one process with an embedded NATS server; `status` and
// `history` show what each environment runs and ran; `demo` is the quick
// start.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/peterbourgon/ff/v3/ffcli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := &ffcli.Command{
		Name:       "slipway",
		ShortUsage: "slipway <command> [flags]",
		ShortHelp:  "commit-based releases: every commit built, deployed and rolled back by its SHA",
		FlagSet:    flag.NewFlagSet("slipway", flag.ContinueOnError),
		Subcommands: []*ffcli.Command{
			releaseCommand(), planCommand(), rollbackCommand(), replayCommand(), gcCommand(),
			upCommand(), statusCommand(), historyCommand(), demoCommand(), dlqCommand(), reindexCommand(), logsCommand(), hostProxyCommand(), secretCommand(), tokenCommand(),
		},
		Exec: func(context.Context, []string) error { return flag.ErrHelp },
	}
	err := root.ParseAndRun(ctx, os.Args[1:])
	switch {
	case err == nil, errors.Is(err, context.Canceled):
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "slipway: %v\n", err)
		os.Exit(1)
	}
}
