package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
)

// errRepoAmbiguous is wrapped by chooseRepo when several repositories have
// environments and none was named.
var errRepoAmbiguous = errors.New("name the repository with -repo owner/name")

// chooseRepo returns the repository a command is about: named, or the only
// one with environments. Environments are scoped by repository, so with
// several of them a command must be told which; the error lists them.
func chooseRepo(ctx context.Context, c *pipeline.Conn, named string) (string, error) {
	if named != "" {
		if !strings.Contains(named, "/") {
			return "", fmt.Errorf("repository %q: want owner/name", named)
		}
		return named, nil
	}
	envs, err := c.Envs(ctx)
	if err != nil {
		return "", err
	}
	repos, err := envs.Repos(ctx)
	if err != nil {
		return "", err
	}
	switch len(repos) {
	case 0:
		return "", fmt.Errorf("no repository has an environment yet: %w", errRepoAmbiguous)
	case 1:
		return repos[0], nil
	}
	return "", fmt.Errorf("%d repositories have environments (%s): %w", len(repos), strings.Join(repos, ", "), errRepoAmbiguous)
}

// positional returns the positional arguments of args, parsing into fs the
// flags that follow them ("slipway rollback staging -repo acme/shop"): the
// flag package stops at the first argument that is not a flag.
func positional(fs *flag.FlagSet, args []string) ([]string, error) {
	var out []string
	for len(args) > 0 {
		out = append(out, args[0])
		if err := fs.Parse(args[1:]); err != nil {
			return nil, err
		}
		args = fs.Args()
	}
	return out, nil
}

// withRepo connects to NATS as name, resolves the repository the command
// names or the only one there is (chooseRepo), runs fn and closes the
// connection: the preamble of the commands about one repository.
func (o *operatorNATS) withRepo(ctx context.Context, name, named string, fn func(c *pipeline.Conn, repo string) error) (err error) {
	c, err := o.attach(name)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, c.Close()) }()
	r, err := chooseRepo(ctx, c, named)
	if err != nil {
		return err
	}
	return fn(c, r)
}
