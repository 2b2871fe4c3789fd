package pipeline

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// RunDeployer consumes commit-built and deploy events, and serves the proxy,
// until ctx ends.
func RunDeployer(ctx context.Context, cfg *Config, c *Conn) error {
	return runDeployer(ctx, cfg, c, nil)
}

// runDeployer is RunDeployer whose release and preview workflows plan
// builds with p, or with a planning of their own when p is nil.
func runDeployer(ctx context.Context, cfg *Config, c *Conn, p *Planning) (err error) {
	ctx = logger(ctx).With().Str("component", "deployer").Logger().WithContext(ctx)
	local, err := NewTarget(cfg)
	if err != nil {
		return fmt.Errorf("deployer: %w", err)
	}
	tasksOf, prov, err := withTasks(ctx, cfg, c, true)
	if err != nil {
		return errors.Join(fmt.Errorf("deployer: %w", err), local.Close())
	}
	withTasks, split, err := withRollouts(ctx, cfg, c, tasksOf)
	if err != nil {
		return errors.Join(fmt.Errorf("deployer: %w", err), local.Close())
	}
	targets, err := NewPlacement(ctx, cfg, local, withTasks)
	if err != nil {
		return errors.Join(fmt.Errorf("deployer: %w", err), local.Close())
	}
	defer func() { err = errors.Join(err, targets.Close()) }()
	claimer, err := c.Hosts(ctx, cfg)
	if err != nil {
		return fmt.Errorf("deployer: %w", err)
	}
	if err := Migrate(ctx, c, claimer, local); err != nil {
		return fmt.Errorf("deployer: %w", err)
	}
	h, err := DeployHandler(ctx, cfg, c, withTasks(local))
	if err != nil {
		return fmt.Errorf("deployer: %w", err)
	}
	h.Targets, h.Hosts = targets, claimer
	if h.Secrets, err = deployerSecrets(ctx, cfg, c); err != nil {
		return fmt.Errorf("deployer: %w", err)
	}
	table, err := NewEnvHosts(ctx, c)
	if err != nil {
		return fmt.Errorf("deployer: %w", err)
	}
	rel, err := newReleaseWorkflows(ctx, cfg, c, targets, h.Locks, p)
	if err != nil {
		return fmt.Errorf("deployer: %w", err)
	}
	rel.Preview.Hosts = claimer
	rel.provision(prov, targets, h.Secrets)
	rel.Notify.Config.URL = serviceURL(cfg, table)
	g, ctx := errgroup.WithContext(ctx)
	if err := serveProxy(ctx, g, cfg, targets, table, split); err != nil {
		return fmt.Errorf("deployer: %w", err)
	}
	g.Go(func() error { return natsjs.CopyDeadLetters(ctx, c.JS, *logger(ctx)) })
	g.Go(func() error { return RunProjector(ctx, cfg, c) })
	g.Go(func() error { return runNotifier(ctx, cfg, c) })
	if err := cfg.watchJetStream(ctx, c); err != nil {
		return fmt.Errorf("deployer: %w", err)
	}
	g.Go(func() error { return rel.Run(ctx, c.runner(ctx, cfg)) })
	steps, err := newInflight(ctx, c, "deploy")
	if err != nil {
		return fmt.Errorf("deployer: %w", err)
	}
	g.Go(func() error { resume(ctx, steps, h.HandleDeploy); return nil })
	g.Go(func() error {
		return c.runner(ctx, cfg).Run(ctx, routes(partDeploy, handlers{cfg: cfg, deploy: h, release: rel, deploys: steps})...)
	})
	return g.Wait()
}

// NewTarget connects to the Docker Engine beside the deployer: the target
// events.LocalTarget.
func NewTarget(cfg *Config) (*docker.Target, error) {
	opts, err := localDockerOptions(cfg)
	if err != nil {
		return nil, err
	}
	return docker.New(opts)
}

// dockerOptions are the options of every Docker target: the deployer's
// health timeout and container limits.
func dockerOptions(cfg *Config) (docker.Options, error) {
	opts := docker.DefaultOptions()
	opts.HealthTimeout = cfg.HealthTimeout
	opts.Limits = cfg.Limits
	reg, err := cfg.dockerRegistry()
	if err != nil {
		return opts, err
	}
	opts.Registry = reg
	return opts, nil
}

// localDockerOptions are dockerOptions for a daemon on this machine: when
// the deployer's own proxy runs, a replaced container drains only while
// that proxy has requests in flight to it (docker.Drainer).
func localDockerOptions(cfg *Config) (docker.Options, error) {
	opts, err := dockerOptions(cfg)
	if err == nil && cfg.proxies() {
		opts.Drainer = cfg.inFlight()
	}
	return opts, err
}

// DeployHandler wires the deploy workflow to the target and JetStream.
func DeployHandler(ctx context.Context, cfg *Config, c *Conn, target deploy.Target) (*deploy.Handler, error) {
	claims, err := c.claims(ctx)
	if err != nil {
		return nil, err
	}
	envs, err := c.Envs(ctx)
	if err != nil {
		return nil, err
	}
	h := &deploy.Handler{
		Config:    deploy.Config{ClaimTTL: cfg.ClaimTTL},
		Target:    target,
		Claims:    claims,
		Publisher: cfg.observed(natsjs.NewPublisher(c.JS, "/slipway/deployer")),
		Store:     envs,
	}
	if cfg.Metrics != nil {
		h.LockWaits = cfg.Metrics
	}
	if err := orderDeploys(ctx, cfg, c, h); err != nil {
		return nil, err
	}
	return h, h.Config.Validate()
}
