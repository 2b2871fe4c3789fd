package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/natsstore"
)

func buildsCommand() *ffcli.Command {
	fs := flag.NewFlagSet("slipway builds", flag.ContinueOnError)
	n := bindOperatorNATS(fs)
	repo := fs.String("repo", "", "only the builds of this repository, as owner/name")
	return &ffcli.Command{
		Name:       "builds",
		ShortUsage: "slipway builds [-repo owner/name] [flags] [sha]",
		ShortHelp:  "list the latest build of each commit and service: result, attempts, digest or reason",
		FlagSet:    fs,
		Options:    pipeline.Options(),
		Exec: func(ctx context.Context, args []string) (err error) {
			if len(args) > 1 {
				return usagef("want at most one commit")
			}
			sha := ""
			if len(args) == 1 {
				sha = args[0]
			}
			return n.with("slipway-builds", func(c *pipeline.Conn) error {
				return builds(ctx, c, *repo, sha, os.Stdout)
			})
		},
	}
}

// builds prints the latest build per commit and service of repo (every
// repository when empty) whose commit starts with sha, oldest first.
func builds(ctx context.Context, c *pipeline.Conn, repo, sha string, out io.Writer) error {
	claims, err := c.Claims(ctx)
	if err != nil {
		return err
	}
	bs, err := natsstore.Builds(ctx, c.JS, claims, repo, sha)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TIME\tREPO\tCOMMIT\tSERVICE\tRESULT\tDIGEST OR REASON")
	for _, b := range bs {
		printBuild(w, b)
	}
	if len(bs) == 0 {
		fmt.Fprintln(w, "(no builds yet)")
	}
	return w.Flush()
}

// printBuild prints one build as a row of TIME REPO COMMIT SERVICE RESULT
// DIGEST OR REASON.
func printBuild(w io.Writer, b natsstore.Build) {
	svc := b.Service
	if svc == "" {
		svc = "(commit)"
	}
	result := b.Result
	if b.Result == natsstore.BuildRunning && b.Attempt > 1 {
		result = fmt.Sprintf("building (attempt %d)", b.Attempt)
	}
	detail := b.Digest
	if b.Result == natsstore.BuildFailed {
		detail, _, _ = strings.Cut(b.Reason, "\n")
	}
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", b.Time.Local().Format(time.DateTime), b.Repo, short(b.Commit), svc, result, detail)
}

// printRecentBuilds prints the builds of the last n commits built of repo
// (every repository when empty), for status.
func printRecentBuilds(ctx context.Context, c *pipeline.Conn, repo string, n int, out io.Writer) error {
	claims, err := c.Claims(ctx)
	if err != nil {
		return err
	}
	bs, err := natsstore.Builds(ctx, c.JS, claims, repo, "")
	if err != nil || len(bs) == 0 {
		return err
	}
	type commit struct{ repo, sha string }
	keep := map[commit]bool{}
	for i := len(bs) - 1; i >= 0 && len(keep) < n; i-- {
		keep[commit{bs[i].Repo, bs[i].Commit}] = true
	}
	fmt.Fprintf(out, "\nBUILDS (the last %d commits)\n", len(keep))
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TIME\tREPO\tCOMMIT\tSERVICE\tRESULT\tDIGEST OR REASON")
	for _, b := range bs {
		if keep[commit{b.Repo, b.Commit}] {
			printBuild(w, b)
		}
	}
	return w.Flush()
}
