package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/slipway-dev/slipway/buildlog"
	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
)

func logsCommand() *ffcli.Command {
	cfg := pipeline.DefaultConfig()
	fs := flag.NewFlagSet("slipway logs", flag.ContinueOnError)
	n := bindOperatorNATSTo(fs, &cfg)
	repo := fs.String("repo", "", "the repository as owner/name (default: the only one with environments)")
	follow := fs.Bool("f", false, "follow the log while the build runs; ends when the build ends")
	return &ffcli.Command{
		Name:       "logs",
		ShortUsage: "slipway logs [-repo owner/name] [-f] <sha> [service]",
		ShortHelp:  "print the build log of a commit's services (the last attempt of each)",
		FlagSet:    fs,
		Options:    pipeline.Options(),
		Exec: func(ctx context.Context, args []string) (err error) {
			args, err = positional(fs, args)
			if err != nil {
				return err
			}
			if len(args) < 1 || len(args) > 2 {
				return fmt.Errorf("logs: want a commit and at most one service: %w", flag.ErrHelp)
			}
			c, err := n.attach("slipway-logs")
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, c.Close()) }()
			r, err := chooseRepo(ctx, c, *repo)
			if err != nil {
				return err
			}
			service := ""
			if len(args) == 2 {
				service = args[1]
			}
			return logs(ctx, c, r, args[0], service, *follow, os.Stdout)
		},
	}
}

// logs prints the build logs of sha's services (or of service), following
// them when follow is set.
func logs(ctx context.Context, c *pipeline.Conn, repo, sha, service string, follow bool, out io.Writer) error {
	services := []string{service}
	if service == "" {
		m, err := c.ReadModel(ctx)
		if err != nil {
			return err
		}
		commit, err := m.Commit(ctx, repo, sha)
		if err != nil {
			return err
		}
		services = slices.Sorted(func(yield func(string) bool) {
			for s := range commit.Builds {
				if !yield(s) {
					return
				}
			}
		})
	}
	for _, svc := range services {
		show := func(r buildlog.Record) { printRecord(out, svc, r) }
		if follow {
			if err := buildlog.Follow(ctx, c.JS, repo, sha, svc, show); err != nil {
				return err
			}
			continue
		}
		recs, err := buildlog.Read(ctx, c.JS, repo, sha, svc)
		if err != nil {
			return err
		}
		for _, r := range recs {
			show(r)
		}
	}
	return nil
}

// printRecord prints one record of a log, prefixed by its service.
func printRecord(out io.Writer, service string, r buildlog.Record) {
	at := r.Time.Local().Format(time.TimeOnly)
	switch r.Kind {
	case buildlog.KindBegin:
		fmt.Fprintf(out, "%s %s ==> build started\n", at, service)
	case buildlog.KindStep:
		fmt.Fprintf(out, "%s %s ==> %s %s\n", at, service, r.Step, r.Status)
	case buildlog.KindLine:
		fmt.Fprintf(out, "%s %s | %s\n", at, service, r.Text)
	case buildlog.KindTruncated:
		fmt.Fprintf(out, "%s %s ==> %s\n", at, service, r.Text)
	case buildlog.KindEnd:
		fmt.Fprintf(out, "%s %s ==> build %s\n", at, service, r.Result)
	}
}
