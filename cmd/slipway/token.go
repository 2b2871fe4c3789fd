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

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
)

func tokenCommand() *ffcli.Command {
	sub := func(name, usage, help string, bind func(fs *flag.FlagSet) func(ctx context.Context, t *api.Tokens, args []string) error) *ffcli.Command {
		fs := flag.NewFlagSet("slipway token "+name, flag.ContinueOnError)
		n := bindOperatorNATS(fs)
		run := bind(fs)
		return &ffcli.Command{
			Name: name, ShortUsage: usage, ShortHelp: help, FlagSet: fs, Options: pipeline.Options(),
			Exec: func(ctx context.Context, args []string) (err error) {
				c, err := n.attach("slipway-token")
				if err != nil {
					return err
				}
				defer func() { err = errors.Join(err, c.Close()) }()
				t, err := api.OpenTokens(ctx, c.JS)
				if err != nil {
					return err
				}
				return run(ctx, t, args)
			},
		}
	}
	return &ffcli.Command{
		Name:       "token",
		ShortUsage: "slipway token <create|list|revoke> [flags]",
		ShortHelp:  "bearer tokens of the HTTP API and the dashboard (roles read and deploy)",
		FlagSet:    flag.NewFlagSet("slipway token", flag.ContinueOnError),
		Subcommands: []*ffcli.Command{
			sub("create", "slipway token create -role read|deploy [-name name]", "create a token and print it, once; only its hash is stored",
				func(fs *flag.FlagSet) func(ctx context.Context, t *api.Tokens, args []string) error {
					role := fs.String("role", "", "read (views only) or deploy (views and actions)")
					name := fs.String("name", currentUser(), "the token's name, recorded as the actor of its actions")
					return func(ctx context.Context, t *api.Tokens, _ []string) error {
						return createToken(ctx, t, *name, *role, os.Stdout)
					}
				}),
			sub("list", "slipway token list", "list the tokens' names and roles",
				func(*flag.FlagSet) func(ctx context.Context, t *api.Tokens, args []string) error {
					return func(ctx context.Context, t *api.Tokens, _ []string) error { return listTokens(ctx, t, os.Stdout) }
				}),
			sub("revoke", "slipway token revoke <name>...", "revoke tokens: their next request is refused",
				func(*flag.FlagSet) func(ctx context.Context, t *api.Tokens, args []string) error {
					return func(ctx context.Context, t *api.Tokens, args []string) error {
						if len(args) == 0 {
							return fmt.Errorf("token revoke: want a token's name: %w", flag.ErrHelp)
						}
						for _, a := range args {
							if err := t.Revoke(ctx, a); err != nil {
								return err
							}
							fmt.Fprintf(os.Stdout, "revoked %s\n", a)
						}
						return nil
					}
				}),
		},
		Exec: func(context.Context, []string) error { return flag.ErrHelp },
	}
}

func createToken(ctx context.Context, t *api.Tokens, name, role string, out io.Writer) error {
	r, err := api.ParseRole(role)
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	secret, err := t.Create(ctx, name, r)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, secret)
	fmt.Fprintf(os.Stderr, "token %s (role %s) created; it is shown once: keep it in a file (-token-file) or SLIPWAY_TOKEN\n", name, r)
	return nil
}

func listTokens(ctx context.Context, t *api.Tokens, out io.Writer) error {
	toks, err := t.List(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tROLE\tCREATED")
	for _, tok := range toks {
		fmt.Fprintf(w, "%s\t%s\t%s\n", tok.Name, tok.Role, tok.Created.Local().Format(time.DateTime))
	}
	if len(toks) == 0 {
		fmt.Fprintln(w, "(no tokens: slipway token create -role read|deploy)")
	}
	return w.Flush()
}
