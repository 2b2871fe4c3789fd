package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/gitclone"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/envdiff"
	"github.com/slipway-dev/slipway/workflows/release"
)

func diffCommand() *ffcli.Command {
	fs := flag.NewFlagSet("slipway diff", flag.ContinueOnError)
	n := bindOperatorNATS(fs)
	repo := fs.String("repo", "", "the repository as owner/name (default: the only one with environments)")
	dir := fs.String("repo-dir", ".", "the local clone, whose slipway.yaml at the first environment's commit says what may differ (differs:)")
	return &ffcli.Command{
		Name:       "diff",
		ShortUsage: "slipway diff <env> <env> [-repo owner/name]",
		ShortHelp:  "list every difference between two environments: commit, digests, values, secrets by name, replicas, hosts, target",
		LongHelp:   "Exits 1 when a difference slipway.yaml does not declare expected (differs:) is found.",
		FlagSet:    fs,
		Options:    pipeline.Options(),
		Exec: func(ctx context.Context, args []string) (err error) {
			args, err = positional(fs, args)
			if err != nil {
				return err
			}
			if len(args) != 2 {
				return fmt.Errorf("diff: want two environments: %w", flag.ErrHelp)
			}
			return n.withRepo(ctx, "slipway-diff", *repo, func(c *pipeline.Conn, r string) error {
				return diffEnvs(ctx, c, r, args[0], args[1], *dir, os.Stdout)
			})
		},
	}
}

// errUnexpected is returned by diffEnvs when a difference is not declared.
var errUnexpected = errors.New("environments differ where slipway.yaml expects no difference")

// diffEnvs prints the differences between environments a and b of repo.
func diffEnvs(ctx context.Context, c *pipeline.Conn, repo, a, b, dir string, out io.Writer) error {
	envs, err := c.Envs(ctx)
	if err != nil {
		return err
	}
	var sides [2]envdiff.Side
	for i, env := range []string{a, b} {
		st, ok, err := envs.Get(ctx, repo, env)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("diff: %s of %s has never been deployed", env, repo)
		}
		sides[i] = sideOf(st)
	}
	differs, known := expectedDiffs(ctx, dir, sides[0].Commit)
	diffs := envdiff.Compare(sides[0], sides[1])
	unexpected := envdiff.Unexpected(diffs, differs)
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "KEY\tSERVICE\tNAME\t%s\t%s\tEXPECTED\n", a, b)
	for _, d := range diffs {
		exp := "yes"
		if slices.Contains(unexpected, d) {
			exp = "NO"
		}
		if !known && exp == "NO" {
			exp = "?"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Key, dash(d.Service), dash(d.Name), dash(d.A), dash(d.B), exp)
	}
	if len(diffs) == 0 {
		fmt.Fprintf(w, "(%s and %s run the same)\n", a, b)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if !known {
		fmt.Fprintf(out, "(slipway.yaml at %s, read from %s, declares no differs: (or cannot be read): nothing checked)\n", short(sides[0].Commit), dir)
		return nil
	}
	if len(unexpected) > 0 {
		return fmt.Errorf("%w: %d (declare their keys in differs: or align the environments)", errUnexpected, len(unexpected))
	}
	return nil
}

// sideOf is an environment's record as envdiff compares it. Secret names
// are not known here yet: the secrets store adds them (Side.Secrets).
func sideOf(st deploy.State) envdiff.Side {
	return envdiff.Side{Env: st.Env, Commit: st.Commit, Target: st.Target, Images: st.Images}
}

// expectedDiffs reads the differs: keys of slipway.yaml at sha from the
// local clone in dir; known is false when it cannot, or when slipway.yaml
// declares none.
func expectedDiffs(ctx context.Context, dir, sha string) (differs []string, known bool) {
	clone, err := gitclone.Open(ctx, dir)
	if err != nil {
		return nil, false
	}
	m, err := release.ReadManifest(ctx, clone, events.Repo{}, sha)
	if err != nil {
		return nil, false
	}
	return m.Differs(), m.DeclaresDiffers()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
