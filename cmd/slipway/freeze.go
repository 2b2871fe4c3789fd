package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/freeze"
)

func lockCommand() *ffcli.Command {
	fs := flag.NewFlagSet("slipway lock", flag.ContinueOnError)
	n := bindOperatorNATS(fs)
	reason := fs.String("m", "", "why the environment is frozen (required), shown by status, history and release")
	d := fs.Duration("for", 0, "end the freeze by itself after this long (default: until slipway unlock)")
	repo := fs.String("repo", "", "the repository as owner/name (default: the only one with environments)")
	actor := fs.String("actor", currentUser(), "who freezes, recorded with the freeze")
	return &ffcli.Command{
		Name:       "lock",
		ShortUsage: "slipway lock <env> -m reason [-for 2h] [-repo owner/name]",
		ShortHelp:  "freeze an environment: automatic deploys are held (the latest is deployed when it ends); releases and rollbacks still go",
		FlagSet:    fs,
		Options:    pipeline.Options(),
		Exec: func(ctx context.Context, args []string) error {
			return withFreezes(ctx, fs, n, args, *repo, "slipway-lock", func(ctx context.Context, c *pipeline.Conn, s freeze.Store, repo, env string) error {
				f, err := lockEnv(ctx, s, repo, env, *reason, *actor, *d)
				if err != nil {
					return err
				}
				fmt.Fprintf(os.Stdout, "==> %s of %s %s\n", env, repo, f.Describe())
				return nil
			})
		},
	}
}

func unlockCommand() *ffcli.Command {
	fs := flag.NewFlagSet("slipway unlock", flag.ContinueOnError)
	n := bindOperatorNATS(fs)
	repo := fs.String("repo", "", "the repository as owner/name (default: the only one with environments)")
	return &ffcli.Command{
		Name:       "unlock",
		ShortUsage: "slipway unlock <env> [-repo owner/name]",
		ShortHelp:  "end the freeze of an environment and deploy the latest commit it held",
		FlagSet:    fs,
		Options:    pipeline.Options(),
		Exec: func(ctx context.Context, args []string) error {
			return withFreezes(ctx, fs, n, args, *repo, "slipway-unlock", func(ctx context.Context, c *pipeline.Conn, s freeze.Store, repo, env string) error {
				return unlock(ctx, s, natsjs.NewPublisher(c.JS, "/slipway/cli"), repo, env, os.Stdout)
			})
		},
	}
}

// lockEnv freezes env of repo for d (0: until unlocked).
func lockEnv(ctx context.Context, s freeze.Store, repo, env, reason, actor string, d time.Duration) (freeze.Freeze, error) {
	return freeze.Lock(ctx, s, freeze.Freeze{Repo: repo, Env: env, Reason: reason, Actor: actor}, d, time.Now())
}

// unlock ends the freeze of env of repo and says what it held.
func unlock(ctx context.Context, s freeze.Store, pub freeze.Publisher, repo, env string, out io.Writer) error {
	f, found, err := freeze.Unlock(ctx, s, pub, repo, env)
	switch {
	case err != nil:
		return err
	case !found:
		fmt.Fprintf(out, "==> %s of %s is not frozen\n", env, repo)
	case f.Held != nil:
		fmt.Fprintf(out, "==> %s unfrozen; deploying the commit it held: %s (%s)\n", env, short(f.Held.Commit), f.Held.DedupKey())
	default:
		fmt.Fprintf(out, "==> %s unfrozen; it held no deploy\n", env)
	}
	return nil
}

// withFreezes parses the one environment of args, connects, and runs f on
// the freeze records.
func withFreezes(ctx context.Context, fs *flag.FlagSet, n *operatorNATS, args []string, named, name string,
	f func(ctx context.Context, c *pipeline.Conn, s freeze.Store, repo, env string) error) (err error) {
	args, err = positional(fs, args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return fmt.Errorf("%s: want one environment: %w", fs.Name(), flag.ErrHelp)
	}
	c, err := n.attach(name)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, c.Close()) }()
	repo, err := chooseRepo(ctx, c, named)
	if err != nil {
		return err
	}
	s, err := freezeStore(ctx, c)
	if err != nil {
		return err
	}
	return f(ctx, c, s, repo, args[0])
}

// freezeStore opens the freeze records.
func freezeStore(ctx context.Context, c *pipeline.Conn) (*natsstore.FreezeStore, error) {
	kv, err := c.JS.KeyValue(ctx, natsjs.BucketFreezes)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", natsjs.BucketFreezes, err)
	}
	return natsstore.NewFreezeStore(kv), nil
}

// printFreezes lists the active freezes of repo (every repository when
// empty), for status.
func printFreezes(ctx context.Context, c *pipeline.Conn, repo string, out io.Writer) error {
	s, err := freezeStore(ctx, c)
	if err != nil {
		return err
	}
	all, err := s.List(ctx)
	if err != nil {
		return err
	}
	for _, f := range all {
		if (repo != "" && f.Repo != repo) || !f.Active(time.Now()) {
			continue
		}
		held := ""
		if f.Held != nil {
			held = "; holds " + short(f.Held.Commit)
		}
		fmt.Fprintf(out, "FROZEN %s %s: %s%s\n", f.Repo, f.Env, f.Describe(), held)
	}
	return nil
}

// noteFreeze tells the operator asking for a deliberate deploy that env is
// frozen, and why: the deploy goes ahead.
func noteFreeze(ctx context.Context, c *pipeline.Conn, repo, env string, out io.Writer) {
	s, err := freezeStore(ctx, c)
	if err != nil {
		return
	}
	if f, _, found, err := s.Get(ctx, repo, env); err == nil && found && f.Active(time.Now()) {
		fmt.Fprintf(out, "==> note: %s is %s; this deliberate deploy goes ahead\n", env, f.Describe())
	}
}
