package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/release"
)

func historyCommand() *ffcli.Command {
	cfg := pipeline.DefaultConfig()
	fs := flag.NewFlagSet("slipway history", flag.ContinueOnError)
	n := bindOperatorNATSTo(fs, &cfg)
	images := fs.Bool("images", false, "show each deploy's image digests, stream sequence and kind")
	repo := fs.String("repo", "", "the repository as owner/name (default: the only one with environments)")
	last := fs.Int("last", 50, "show the last n deploys (0: every one)")
	return &ffcli.Command{
		Name:       "history",
		ShortUsage: "slipway history [-repo owner/name] [flags] <env>",
		ShortHelp:  "list the deploys of an environment, oldest first",
		FlagSet:    fs,
		Options:    pipeline.Options(),
		Exec: func(ctx context.Context, args []string) (err error) {
			if len(args) != 1 {
				return usagef("want one environment, got %d arguments", len(args))
			}
			c, err := n.attach("slipway-history")
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, c.Close()) }()
			r, err := chooseRepo(ctx, c, *repo)
			if err != nil {
				return err
			}
			if *images {
				return historyImages(ctx, c, r, args[0], *last, os.Stdout)
			}
			return history(ctx, c, r, args[0], *last, os.Stdout)
		},
	}
}

// history prints the last deploys of env of repo (every one when last is
// 0), from the read model.
func history(ctx context.Context, c *pipeline.Conn, repo, env string, last int, out io.Writer) error {
	envs, err := lastDeploys(ctx, c, repo, env, last)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TIME\tRESULT\tCOMMIT\tPREVIOUS\tDURATION\tKIND\tACTOR\tTARGET\tTRIGGER\tREASON")
	for _, e := range envs {
		r := e.DeployResult
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Local().Format(time.DateTime), r.Outcome,
			short(r.Commit), short(r.Previous), r.Duration.Round(time.Millisecond), r.Kind, r.Actor, events.TargetName(r.Target), r.Trigger, r.Reason)
	}
	if len(envs) == 0 {
		fmt.Fprintf(w, "(no deploys to %s of %s yet)\n", env, repo)
	}
	return w.Flush()
}

// lastDeploys reads the last deploys of env of repo from the read model,
// once its projector caught up.
func lastDeploys(ctx context.Context, c *pipeline.Conn, repo, env string, last int) ([]release.Deploy, error) {
	m, err := c.FreshReadModel(ctx)
	if err != nil {
		return nil, err
	}
	m.CatchUp(ctx)
	return m.LastDeploys(ctx, repo, env, last)
}
