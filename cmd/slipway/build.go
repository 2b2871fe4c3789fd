package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
)

// buildCommand is `slipway build -force <sha>`: solve every service of a
// commit again, whatever was built before under its build key.
func buildCommand() *ffcli.Command {
	fs := flag.NewFlagSet("slipway build", flag.ContinueOnError)
	n := bindOperatorNATS(fs)
	force := fs.Bool("force", false, "solve every service again even when an image of its build key exists (required)")
	return &ffcli.Command{
		Name:       "build",
		ShortUsage: "slipway build -force <sha>",
		ShortHelp:  "build every service of a commit again, reusing nothing",
		LongHelp: "A service whose inputs did not change is not built again: the image of the commit that\n" +
			"built them is tagged for the new one. -force solves every service of the commit again (a\n" +
			"base image that moved, a suspect image); the commit's environments then deploy the new images.",
		FlagSet: fs,
		Options: pipeline.Options(),
		Exec: func(ctx context.Context, args []string) (err error) {
			if len(args) != 1 || !*force {
				return fmt.Errorf("build: want -force and one commit: %w", flag.ErrHelp)
			}
			return n.with("slipway-build", func(c *pipeline.Conn) error {
				id := "cli-" + nonce()
				sha, services, err := pipeline.ForceBuild(ctx, c, args[0], id)
				if err != nil {
					return err
				}
				fmt.Fprintf(os.Stdout, "==> rebuilding %s (%s): %s\n", short(sha), id, strings.Join(services, ", "))
				return nil
			})
		},
	}
}
