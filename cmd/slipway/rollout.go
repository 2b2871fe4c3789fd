package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/canary"
)

func promoteCommand() *ffcli.Command {
	return steerCommand(canary.CommandPromote, "skip the remaining pauses of the rollout running in an environment")
}

func abortCommand() *ffcli.Command {
	return steerCommand(canary.CommandAbort, "roll the rollout running in an environment back now")
}

// steerCommand is slipway promote or slipway abort.
func steerCommand(cmd, help string) *ffcli.Command {
	fs := flag.NewFlagSet("slipway "+cmd, flag.ContinueOnError)
	n := bindOperatorNATS(fs)
	repo := fs.String("repo", "", "the repository as owner/name (default: the only one with environments)")
	return &ffcli.Command{
		Name:       cmd,
		ShortUsage: "slipway " + cmd + " <env> [-repo owner/name]",
		ShortHelp:  help,
		FlagSet:    fs,
		Options:    pipeline.Options(),
		Exec: func(ctx context.Context, args []string) (err error) {
			if args, err = positional(fs, args); err != nil {
				return err
			}
			if len(args) != 1 {
				return fmt.Errorf("%s: want one environment: %w", cmd, flag.ErrHelp)
			}
			if msg := manifest.CheckEnvironment(args[0]); msg != "" {
				return fmt.Errorf("environment %q: %s", args[0], msg)
			}
			c, err := n.attach("slipway-" + cmd)
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, c.Close()) }()
			r, err := chooseRepo(ctx, c, *repo)
			if err != nil {
				return err
			}
			store, err := c.Canary(ctx)
			if err != nil {
				return err
			}
			return steer(ctx, store, r, args[0], cmd, os.Stdout)
		},
	}
}

// steer gives the rollout running in env of repo cmd; without a rollout
// there is nothing to steer.
func steer(ctx context.Context, store *natsstore.CanaryStore, repo, env, cmd string, w io.Writer) error {
	sp, ok, err := store.Split(ctx, repo, env)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: no rollout runs in %s of %s", cmd, env, repo)
	}
	if err := store.Command(ctx, repo, env, cmd); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s sent to %s of %s: commit %s at step %d (%d%%)\n", cmd, env, repo, short(sp.Commit), sp.Step+1, sp.Weight)
	return nil
}
