// Command slipway is the operator's CLI: `slipway up` runs ingest, builder
// and deployer in one process with an embedded NATS server; `status` and
// `history` show what each environment runs and ran; `demo` is the quick
// start.
package main

import (
	"context"
	"flag"
	"os"
	"os/signal"
	"syscall"

	"github.com/peterbourgon/ff/v3/ffcli"
)

// rootCommand is the command tree of slipway.
func rootCommand() *ffcli.Command {
	return &ffcli.Command{
		Name:       "slipway",
		ShortUsage: "slipway <command> [flags]",
		ShortHelp:  "commit-based releases: every commit built, deployed and rolled back by its SHA",
		FlagSet:    flag.NewFlagSet("slipway", flag.ContinueOnError),
		Subcommands: []*ffcli.Command{
			releaseCommand(), planCommand(), rollbackCommand(), replayCommand(), gcCommand(), buildCommand(),
			upCommand(), statusCommand(), buildsCommand(), historyCommand(), demoCommand(), dlqCommand(), hostProxyCommand(), secretCommand(),
			lockCommand(), unlockCommand(), diffCommand(), checksCommand(),
			reindexCommand(), logsCommand(), tokenCommand(),
			promoteCommand(), abortCommand(),
		},
		Exec: func(context.Context, []string) error { return usagef("want a command") },
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := newCLI(rootCommand()).run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}
