package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/secrets"
)

func secretCommand() *ffcli.Command {
	return &ffcli.Command{
		Name:       "secret",
		ShortUsage: "slipway secret <set|list|rm> <env> [NAME] [-repo owner/name]",
		ShortHelp:  "secrets of an environment, given to the services that list them under secrets: in slipway.yaml",
		LongHelp: "Values are sealed with the deployer's public key (age) before they leave this command and\n" +
			"opened by the deployer at deploy time; this command can never read one back.",
		FlagSet:     flag.NewFlagSet("slipway secret", flag.ContinueOnError),
		Subcommands: []*ffcli.Command{secretSetCommand(), secretListCommand(), secretRmCommand()},
		Exec:        func(context.Context, []string) error { return flag.ErrHelp },
	}
}

// secretArgs are the settings shared by the secret commands.
type secretArgs struct {
	n    *operatorNATS
	repo *string
}

func bindSecretArgs(fs *flag.FlagSet) secretArgs {
	return secretArgs{
		n:    bindOperatorNATS(fs),
		repo: fs.String("repo", "", "the repository as owner/name (default: the only one with environments)"),
	}
}

// with checks the environment and the secret names, connects, chooses
// the repository and runs fn (operatorNATS.withRepo).
func (a secretArgs) with(ctx context.Context, env string, names []string, fn func(c *pipeline.Conn, repo string) error) error {
	if err := checkSecretArgs(env, names...); err != nil {
		return err
	}
	return a.n.withRepo(ctx, "slipway-secret", *a.repo, fn)
}

// checkSecretArgs refuses an environment or a secret name slipway.yaml
// could not use.
func checkSecretArgs(env string, names ...string) error {
	if msg := manifest.CheckEnvironment(env); msg != "" {
		return fmt.Errorf("environment %q: %s", env, msg)
	}
	for _, n := range names {
		if msg := manifest.CheckSecretName(n); msg != "" {
			return fmt.Errorf("%q: %s", n, msg)
		}
	}
	return nil
}

func secretSetCommand() *ffcli.Command {
	var d deliberate
	fs := flag.NewFlagSet("slipway secret set", flag.ContinueOnError)
	a := bindSecretArgs(fs)
	redeploy := fs.Bool("redeploy", false, "deploy the environment's running commit again with the new value")
	d.bind(fs)
	return &ffcli.Command{
		Name:       "set",
		ShortUsage: "slipway secret set <env> NAME [-repo owner/name] [-redeploy] < value",
		ShortHelp:  "set a secret from standard input (one final newline is dropped); it takes effect at the next deploy",
		FlagSet:    fs,
		Options:    pipeline.Options(),
		Exec: func(ctx context.Context, args []string) (err error) {
			if args, err = positionalN(fs, args, 2, "secret set", "an environment and a name; the value comes from standard input"); err != nil {
				return err
			}
			if err := checkSecretArgs(args[0], args[1]); err != nil {
				return err
			}
			value, err := readValue(os.Stdin, args[1])
			if err != nil {
				return err
			}
			return a.with(ctx, args[0], args[1:], func(c *pipeline.Conn, repo string) error {
				return secretSet(ctx, c, repo, args[0], args[1], value, *redeploy, d, os.Stdout)
			})
		},
	}
}

// readValue reads a secret's value from r: all of it, less one final
// newline. An empty value, or one no environment variable can hold, is
// refused; errors never repeat the value.
func readValue(r io.Reader, name string) ([]byte, error) {
	v, err := io.ReadAll(io.LimitReader(r, manifest.MaxEnvEntry+2))
	if err != nil {
		return nil, fmt.Errorf("read the value of %s from standard input: %w", name, err)
	}
	v = bytes.TrimSuffix(v, []byte("\n"))
	v = bytes.TrimSuffix(v, []byte("\r"))
	switch {
	case len(v) == 0:
		return nil, fmt.Errorf("secret %s: empty value on standard input (echo -n value | slipway secret set …)", name)
	case bytes.IndexByte(v, 0) >= 0:
		return nil, fmt.Errorf("secret %s: the value holds a NUL byte, which no environment variable can", name)
	case len(name)+1+len(v) > manifest.MaxEnvEntry:
		return nil, fmt.Errorf("secret %s: the value is longer than an environment variable may be (%d bytes with its name)", name, manifest.MaxEnvEntry)
	}
	return v, nil
}

// secretSet seals value with the published recipient and records it as
// secret name of env of repo; with redeploy it deploys the environment's
// running commit again.
func secretSet(ctx context.Context, c *pipeline.Conn, repo, env, name string, value []byte, redeploy bool, d deliberate, out io.Writer) error {
	store, err := c.Secrets(ctx, nil)
	if err != nil {
		return err
	}
	recipient, err := store.Recipient(ctx)
	if err != nil {
		return err
	}
	sealed, err := secrets.Seal(recipient, value)
	if err != nil {
		return fmt.Errorf("secret %s: %w", name, err)
	}
	version, err := store.Put(ctx, repo, env, natsstore.SealedSecret{
		Name: name, Sealed: sealed, Recipient: recipient, SetBy: d.Actor, SetAt: time.Now().UTC(),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "==> set %s of %s (version %d)\n", name, events.EnvID{Repo: repo, Env: env}, version)
	if !redeploy {
		fmt.Fprintf(out, "    it takes effect at the next deploy of %s (or set it with -redeploy)\n", env)
		return nil
	}
	return redeployWith(ctx, c, store, repo, env, name, version, d, out)
}

// redeployWith requests the commit env of repo runs again, as a deploy of
// kind redeploy triggered by the change of secret name to version, and
// waits for it. The request names the versions its secrets have now: a
// deployer reading an older one (a stale replica) retries.
func redeployWith(ctx context.Context, c *pipeline.Conn, store *natsstore.SecretStore, repo, env, name string, version uint64, d deliberate, out io.Writer) error {
	envs, err := c.Envs(ctx)
	if err != nil {
		return err
	}
	st, ok, err := envs.Get(ctx, repo, env)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("redeploy: %s runs nothing yet; the secret is set and its first deploy gets it", events.EnvID{Repo: repo, Env: env})
	}
	if !slices.ContainsFunc(st.Images, func(img events.Image) bool { return slices.Contains(img.Service.Secrets, name) }) {
		fmt.Fprintf(out, "==> no service of %s (commit %s) references %s: nothing to redeploy\n", env, short(st.Commit), name)
		return nil
	}
	list, err := store.List(ctx, repo, env)
	if err != nil {
		return err
	}
	least := map[string]uint64{}
	for _, sec := range list {
		if slices.ContainsFunc(st.Images, func(img events.Image) bool { return slices.Contains(img.Service.Secrets, sec.Name) }) {
			least[sec.Name] = sec.Version
		}
	}
	least[name] = max(least[name], version)
	trigger := natsstore.SecretKey(repo, env, name) + "." + strconv.FormatUint(version, 10)
	req := (&events.DeployRequested{Env: st.Env, Repo: st.Repo, Commit: st.Commit, Images: st.Images, Secrets: least}).
		Ask(events.KindRedeploy, trigger, d.Actor, nonce())
	fmt.Fprintf(out, "==> redeploying %s of %s with the new %s\n", short(st.Commit), env, name)
	_, err = request(ctx, c, req, d, out)
	return err
}

func secretListCommand() *ffcli.Command {
	fs := flag.NewFlagSet("slipway secret list", flag.ContinueOnError)
	a := bindSecretArgs(fs)
	return &ffcli.Command{
		Name:       "list",
		ShortUsage: "slipway secret list <env> [-repo owner/name]",
		ShortHelp:  "list the secrets of an environment: names, versions, who set them when; never a value",
		FlagSet:    fs,
		Options:    pipeline.Options(),
		Exec: func(ctx context.Context, args []string) (err error) {
			if args, err = positionalN(fs, args, 1, "secret list", "one environment"); err != nil {
				return err
			}
			return a.with(ctx, args[0], nil, func(c *pipeline.Conn, repo string) error {
				return secretList(ctx, c, repo, args[0], os.Stdout)
			})
		},
	}
}

// secretList prints the names of the secrets of env of repo.
func secretList(ctx context.Context, c *pipeline.Conn, repo, env string, out io.Writer) error {
	store, err := c.Secrets(ctx, nil)
	if err != nil {
		return err
	}
	list, err := store.List(ctx, repo, env)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tVERSION\tSET\tBY")
	for _, s := range list {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", s.Name, s.Version, s.SetAt.Local().Format(time.DateTime), s.SetBy)
	}
	if len(list) == 0 {
		fmt.Fprintf(w, "(no secrets for %s)\n", events.EnvID{Repo: repo, Env: env})
	}
	return w.Flush()
}

// secretRm removes secret name of env of repo.
func secretRm(ctx context.Context, c *pipeline.Conn, repo, env, name string, out io.Writer) error {
	store, err := c.Secrets(ctx, nil)
	if err != nil {
		return err
	}
	if err := store.Delete(ctx, repo, env, name); err != nil {
		return err
	}
	fmt.Fprintf(out, "==> removed %s of %s\n", name, events.EnvID{Repo: repo, Env: env})
	return nil
}

func secretRmCommand() *ffcli.Command {
	fs := flag.NewFlagSet("slipway secret rm", flag.ContinueOnError)
	a := bindSecretArgs(fs)
	return &ffcli.Command{
		Name:       "rm",
		ShortUsage: "slipway secret rm <env> NAME [-repo owner/name]",
		ShortHelp:  "remove a secret; running containers keep it until the next deploy, which fails while a service lists it",
		FlagSet:    fs,
		Options:    pipeline.Options(),
		Exec: func(ctx context.Context, args []string) (err error) {
			if args, err = positionalN(fs, args, 2, "secret rm", "an environment and a name"); err != nil {
				return err
			}
			return a.with(ctx, args[0], args[1:], func(c *pipeline.Conn, repo string) error {
				return secretRm(ctx, c, repo, args[0], args[1], os.Stdout)
			})
		},
	}
}
