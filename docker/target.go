package docker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
)

var (
	_ deploy.Target = (*Target)(nil)
	_ target.Target = (*Target)(nil)
)

// retryAfter is how long the messaging edge waits before it redelivers a
// deploy that failed on an unreachable daemon or registry.
const retryAfter = 5 * time.Second

// Target runs environments as containers on one Docker daemon.
type Target struct {
	cli   *client.Client
	opts  Options
	probe *http.Client // health probes, dialled through Dial

	mu    sync.Mutex
	locks map[string]*sync.Mutex // one per environment of a repository
}

// New returns a Target talking to the daemon opts.Host names, or to the one
// the environment names. It does not contact the daemon.
func New(opts Options) (*Target, error) {
	opts = opts.withDefaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("validate docker options: %w", err)
	}
	clientOpts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if opts.Host != "" {
		clientOpts = append(clientOpts, client.WithHost(opts.Host))
	}
	cli, err := client.NewClientWithOpts(clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("create docker client: %w", err)
	}
	t := &Target{cli: cli, opts: opts, locks: map[string]*sync.Mutex{}}
	t.probe = newProbeClient(t.Dial)
	return t, nil
}

// Dial connects to an address the Target reported (ResolveAll, Current):
// with Options.Dial when set, otherwise directly.
func (t *Target) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if t.opts.Dial != nil {
		return t.opts.Dial(ctx, network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// Close releases the connection to the daemon.
func (t *Target) Close() error {
	return t.cli.Close()
}

// lock serialises the deploys of env of repo within this Target and returns
// the function that releases it.
func (t *Target) lock(repo, env string) func() {
	key := events.EnvKey(repo, env)
	t.mu.Lock()
	l, ok := t.locks[key]
	if !ok {
		l = new(sync.Mutex)
		t.locks[key] = l
	}
	t.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// list returns every container of env of repo, running or not (members).
func (t *Target) list(ctx context.Context, repo, env string) ([]container.Summary, error) {
	return t.members(ctx, repo, env, true)
}

// members returns the containers of env of repo (belongs) that match
// extra, stopped ones too when all. A container moved into env from
// another environment (Deployment.From) is listed with env in its
// slipway.env label, as it reads back: Docker cannot relabel a container.
func (t *Target) members(ctx context.Context, repo, env string, all bool, extra ...filters.KeyValuePair) ([]container.Summary, error) {
	inRepo := filters.Arg("label", LabelRepo+"="+repo)
	queries := []filters.Args{
		filters.NewArgs(slices.Concat(extra, []filters.KeyValuePair{inRepo, filters.Arg("label", LabelEnv+"="+env)})...),
		// The daemon matches names as regular expressions.
		filters.NewArgs(slices.Concat(extra, []filters.KeyValuePair{inRepo, filters.Arg("name", regexp.QuoteMeta(envPrefix(repo, env)))})...),
	}
	seen := map[string]bool{}
	var out []container.Summary
	for _, f := range queries {
		cs, err := t.cli.ContainerList(ctx, container.ListOptions{All: all, Filters: f})
		if err != nil {
			return nil, daemonError("list containers of "+events.EnvID{Repo: repo, Env: env}.String(), err)
		}
		for _, c := range cs {
			if seen[c.ID] || !belongs(nameOf(c), c.Labels, repo, env) {
				continue
			}
			seen[c.ID] = true
			out = append(out, movedInto(c, env))
		}
	}
	return out, nil
}

// movedInto returns c with env in its slipway.env label, its labels
// copied when they name another environment.
func movedInto(c container.Summary, env string) container.Summary {
	if c.Labels[LabelEnv] == env {
		return c
	}
	l := maps.Clone(c.Labels)
	l[LabelEnv] = env
	c.Labels = l
	return c
}

// Remove removes every container of env of repo, live or not. Removing an
// environment that has none is not an error; another repository's
// environment of the same name is never touched.
func (t *Target) Remove(ctx context.Context, repo, env string) error {
	if repo == "" {
		return errors.New("remove " + env + ": no repository named")
	}
	cs, err := t.list(ctx, repo, env)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range cs {
		errs = append(errs, t.forceRemove(ctx, c.ID))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := t.removeAllRecords(ctx, repo, env); err != nil {
		return err
	}
	zerolog.Ctx(ctx).Info().Str("repo", repo).Str("env", env).Int("containers", len(cs)).Msg("environment removed")
	return nil
}

// forceRemove kills and removes a container with its anonymous volumes. A
// container that is already gone is not an error.
func (t *Target) forceRemove(ctx context.Context, id string) error {
	err := t.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !isNotFound(err) {
		return daemonError("remove container "+short(id), err)
	}
	return nil
}

// daemonError wraps err from the daemon as op; an unreachable daemon is
// retryable.
func daemonError(op string, err error) error {
	err = fmt.Errorf("%s: %w", op, err)
	if client.IsErrConnectionFailed(err) {
		return events.Retryable(err, retryAfter)
	}
	return err
}
