package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/workflows"
	"github.com/slipway-dev/slipway/workflows/checks"
)

func checksCommand() *ffcli.Command {
	fs := flag.NewFlagSet("slipway checks", flag.ContinueOnError)
	n := bindOperatorNATS(fs)
	repo := fs.String("repo", "", "the repository as owner/name (default: the only one with environments)")
	logs := fs.Bool("log", false, "print the last lines of each check's output")
	return &ffcli.Command{
		Name:       "checks",
		ShortUsage: "slipway checks <sha> [-log] [-repo owner/name]",
		ShortHelp:  "the checks of a commit: passed, failed or running, with the last lines of their output",
		FlagSet:    fs,
		Options:    pipeline.Options(),
		Exec: func(ctx context.Context, args []string) (err error) {
			args, err = positional(fs, args)
			if err != nil {
				return err
			}
			if len(args) != 1 {
				return fmt.Errorf("checks: want one commit: %w", flag.ErrHelp)
			}
			return n.withRepo(ctx, "slipway-checks", *repo, func(c *pipeline.Conn, r string) error {
				return printChecks(ctx, c, r, args[0], *logs, os.Stdout)
			})
		},
	}
}

// printChecks prints the check claims of sha of repo and their results.
func printChecks(ctx context.Context, c *pipeline.Conn, repo, sha string, logs bool, out io.Writer) error {
	if (len(sha) != 40 && len(sha) != 64) || strings.Trim(sha, "0123456789abcdef") != "" {
		return fmt.Errorf("checks: %q is not a full commit id (40 or 64 lower-case hex digits)", sha)
	}
	kv, err := c.JS.KeyValue(ctx, natsjs.BucketClaims)
	if err != nil {
		return fmt.Errorf("open %s: %w", natsjs.BucketClaims, err)
	}
	claims, err := c.Claims(ctx)
	if err != nil {
		return err
	}
	prefix := events.CheckKey(repo, sha, "")
	lister, err := kv.ListKeysFiltered(ctx, prefix+"*")
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		return fmt.Errorf("list checks of %s: %w", short(sha), err)
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CHECK\tRESULT\tDURATION\tREASON")
	var results []*events.CheckFinished
	shown := 0
	if lister != nil {
		for key := range lister.Keys() {
			name := strings.TrimPrefix(key, prefix)
			res, err := checks.Recorded(ctx, claims, repo, sha, name)
			switch {
			case errors.Is(err, workflows.ErrNoResult):
				fmt.Fprintf(w, "%s\trunning\t-\t-\n", name)
			case err != nil:
				return err
			default:
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", res.Check, res.Status(), res.Duration.Round(time.Millisecond), dash(firstLineOf(res.Reason)))
				results = append(results, res)
			}
			shown++
		}
	}
	if shown == 0 {
		fmt.Fprintf(w, "(no check of %s has run)\n", short(sha))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for _, res := range results {
		if logs {
			fmt.Fprintf(out, "\n--- %s (last %d lines)\n%s\n", res.Check, len(res.Log), strings.Join(res.Log, "\n"))
		}
	}
	return nil
}
