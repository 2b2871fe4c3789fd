package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/events/natsjs"
)

func dlqCommand() *ffcli.Command {
	sub := func(name, usage, help string, run func(ctx context.Context, js jetstream.JetStream, args []string) error) *ffcli.Command {
		fs := flag.NewFlagSet("slipway dlq "+name, flag.ContinueOnError)
		n := bindOperatorNATS(fs)
		a := bindAPI(fs)
		return &ffcli.Command{
			Name: name, ShortUsage: usage, ShortHelp: help, FlagSet: fs, Options: pipeline.Options(),
			Exec: func(ctx context.Context, args []string) (err error) {
				if a.on() {
					return dlqOverAPI(ctx, a, name, args, os.Stdout)
				}
				c, err := n.attach("slipway-dlq")
				if err != nil {
					return err
				}
				defer func() { err = errors.Join(err, c.Close()) }()
				return run(ctx, c.JS, args)
			},
		}
	}
	return &ffcli.Command{
		Name:       "dlq",
		ShortUsage: "slipway dlq <list|retry> [flags]",
		ShortHelp:  "list and retry events that failed their maximum number of deliveries",
		FlagSet:    flag.NewFlagSet("slipway dlq", flag.ContinueOnError),
		Subcommands: []*ffcli.Command{
			sub("list", "slipway dlq list [flags]", "list the dead letters, oldest first",
				func(ctx context.Context, js jetstream.JetStream, _ []string) error {
					return listDeadLetters(ctx, js, os.Stdout, 0)
				}),
			sub("retry", "slipway dlq retry [flags] <seq>...", "publish dead letters again under a new id and remove them from the DLQ",
				func(ctx context.Context, js jetstream.JetStream, args []string) error {
					return retryDeadLetters(ctx, js, os.Stdout, args)
				}),
		},
		Exec: func(context.Context, []string) error { return flag.ErrHelp },
	}
}

// listDeadLetters prints the dead letters, at most limit of them (0: all).
func listDeadLetters(ctx context.Context, js jetstream.JetStream, out io.Writer, limit int) error {
	dead, err := natsjs.DeadLetters(ctx, js)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SEQ\tTIME\tCONSUMER\tDELIVERIES\tEVENT\tSUBJECT")
	for i, d := range dead {
		if limit > 0 && i == limit {
			fmt.Fprintf(w, "... and %d more (slipway dlq list)\n", len(dead)-limit)
			break
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%s\t%s#%d\n", d.Seq, d.At.Local().Format(time.DateTime),
			d.Consumer, d.Deliveries, d.ID, d.Subject, d.StreamSeq)
	}
	if len(dead) == 0 {
		fmt.Fprintln(w, "(no dead letters)")
	}
	return w.Flush()
}

func retryDeadLetters(ctx context.Context, js jetstream.JetStream, out io.Writer, args []string) error {
	if len(args) == 0 {
		return usagef("want the sequence of at least one dead letter")
	}
	for _, a := range args {
		seq, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			return fmt.Errorf("dlq retry: %q is not a sequence number", a)
		}
		id, err := natsjs.RetryDeadLetter(ctx, js, seq)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%d: published again as %s\n", seq, id)
	}
	return nil
}

// printDeadLetters adds the dead letters to `slipway status`.
func printDeadLetters(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	n, err := natsjs.CountDeadLetters(ctx, js)
	if err != nil || n == 0 {
		return err
	}
	fmt.Fprintf(out, "\nDEAD LETTERS: %d event(s) failed every delivery; retry with `slipway dlq retry <seq>`\n", n)
	return listDeadLetters(ctx, js, out, 5)
}
