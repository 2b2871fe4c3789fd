package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/slipway-dev/slipway/actions"
	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows"
)

// deliberate are the settings shared by rollback and replay.
type deliberate struct {
	Actor string
	Wait  time.Duration
}

func (d *deliberate) bind(fs *flag.FlagSet) {
	fs.StringVar(&d.Actor, "actor", currentUser(), "who asks, recorded with the deploy")
	fs.DurationVar(&d.Wait, "wait", 5*time.Minute, "how long to wait for the deploy's result; 0 does not wait")
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

func rollbackCommand() *ffcli.Command {
	var d deliberate
	fs := flag.NewFlagSet("slipway rollback", flag.ContinueOnError)
	n := bindOperatorNATS(fs)
	to := fs.String("to", "", "go back to this commit (it must have run healthy in the environment)")
	steps := fs.Int("steps", 1, "how many commits to go back")
	repo := fs.String("repo", "", "the repository as owner/name (default: the only one with environments)")
	d.bind(fs)
	a := bindAPI(fs)
	return &ffcli.Command{
		Name:       "rollback",
		ShortUsage: "slipway rollback [flags] <env> [-repo owner/name]",
		ShortHelp:  "deploy the previous healthy commit of an environment again, from its images; no build",
		LongHelp: "Goes back along the environment's history with earlier rollbacks undone in order: rolling\n" +
			"back twice goes two commits back. -to picks any commit that ran healthy there.",
		FlagSet: fs,
		Options: pipeline.Options(),
		Exec: func(ctx context.Context, args []string) (err error) {
			if len(args) != 1 {
				return usagef("want one environment")
			}
			if a.on() {
				r, err := a.repo(ctx, *repo)
				if err != nil {
					return err
				}
				_, err = a.action(ctx, envPath(r, args[0])+"/rollback", api.RollbackRequest{Steps: *steps, To: *to, Wait: waitOf(d)}, os.Stdout)
				return err
			}
			c, err := n.attach("slipway-rollback")
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, c.Close()) }()
			r, err := chooseRepo(ctx, c, *repo)
			if err != nil {
				return err
			}
			_, err = rollback(ctx, c, r, args[0], *steps, *to, d, os.Stdout)
			return err
		},
	}
}

// rollback requests the deploy of an earlier healthy commit of env of repo
// and waits for its result (actions.Rollback).
func rollback(ctx context.Context, c *pipeline.Conn, repo, env string, steps int, to string, d deliberate, out io.Writer) (natsstore.DeployDone, error) {
	if err := waitInFlight(ctx, c, repo, env, d, out); err != nil {
		return natsstore.DeployDone{}, err
	}
	b, err := bus(ctx, c)
	if err != nil {
		return natsstore.DeployDone{}, err
	}
	// The read model, caught up with the stream, answers the history.
	b.History, err = c.FreshReadModel(ctx)
	if err != nil {
		return natsstore.DeployDone{}, err
	}
	noteFreeze(ctx, c, repo, env, out)
	o, _, err := actions.Rollback(ctx, b, repo, env, steps, to, actions.Deliberate(d), out)
	return o, err
}

// waitInFlight waits, up to d.Wait (5 minutes when 0), for the last deploy
// request of env of repo to end when it has not yet: a rollback goes back
// from what the environment is about to run, not from what it ran before.
func waitInFlight(ctx context.Context, c *pipeline.Conn, repo, env string, d deliberate, out io.Writer) error {
	req, err := natsstore.NewDeployQueue(c.JS).Latest(ctx, repo, env)
	if err != nil || req == nil {
		return err
	}
	claims, err := c.Claims(ctx)
	if err != nil {
		return err
	}
	if _, err := claims.Result(ctx, req.DedupKey()); !errors.Is(err, workflows.ErrNoResult) {
		return err
	}
	fmt.Fprintf(out, "==> waiting for the deploy of %s to %s in flight (%s)\n", short(req.Commit), env, req.DedupKey())
	wait := d.Wait
	if wait <= 0 {
		wait = 5 * time.Minute
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if _, err := natsstore.WaitDeploy(wctx, c.JS, claims, repo, env, req.DedupKey()); err != nil {
		return fmt.Errorf("the deploy of %s to %s has not ended: roll back once it has: %w", short(req.Commit), env, err)
	}
	return nil
}

// request publishes a deliberate deploy request and waits for its outcome
// (actions.Request).
func request(ctx context.Context, c *pipeline.Conn, req *events.DeployRequested, d deliberate, out io.Writer) (natsstore.DeployDone, error) {
	b, err := bus(ctx, c)
	if err != nil {
		return natsstore.DeployDone{}, err
	}
	return actions.Request(ctx, b, req, actions.Deliberate(d), out)
}

// bus is what the actions need of c.
func bus(ctx context.Context, c *pipeline.Conn) (actions.Bus, error) {
	claims, err := c.Claims(ctx)
	return actions.Bus{JS: c.JS, Claims: claims, Source: "/slipway/cli"}, err
}

func replayCommand() *ffcli.Command {
	var d deliberate
	fs := flag.NewFlagSet("slipway replay", flag.ContinueOnError)
	n := bindOperatorNATS(fs)
	d.bind(fs)
	a := bindAPI(fs)
	return &ffcli.Command{
		Name:       "replay",
		ShortUsage: "slipway replay [flags] <stream-sequence | event-id>",
		ShortHelp:  "publish a recorded event again under a new id, so it is not deduplicated away",
		LongHelp: "A deploy event (requested, succeeded, failed, superseded) is requested again with a new\n" +
			"nonce: its commit is deployed from its images. Any other event is re-published as it was,\n" +
			"with a new id; steps it leads to that are done already (builds) are not done again.",
		FlagSet: fs,
		Options: pipeline.Options(),
		Exec: func(ctx context.Context, args []string) (err error) {
			if len(args) != 1 {
				return usagef("want one event")
			}
			if a.on() {
				_, err := a.action(ctx, "/replay", api.ReplayRequest{Ref: args[0], Wait: waitOf(d)}, os.Stdout)
				return err
			}
			c, err := n.attach("slipway-replay")
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, c.Close()) }()
			_, err = replay(ctx, c, args[0], d, os.Stdout)
			return err
		},
	}
}

// replay re-publishes the event ref names (a stream sequence or an event
// id; actions.Replay).
func replay(ctx context.Context, c *pipeline.Conn, ref string, d deliberate, out io.Writer) (natsstore.DeployDone, error) {
	b, err := bus(ctx, c)
	if err != nil {
		return natsstore.DeployDone{}, err
	}
	return actions.Replay(ctx, b, ref, actions.Deliberate(d), out)
}

// waitOf is d's wait as the API takes it: the actor is the token's name.
func waitOf(d deliberate) string {
	if d.Wait <= 0 {
		return ""
	}
	return d.Wait.String()
}

// nonce returns a short random id for a deliberate event.
func nonce() string { return actions.Nonce() }
