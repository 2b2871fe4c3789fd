package pipeline

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/proxy"
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
	target, err := NewTarget(cfg)
	if err != nil {
		return fmt.Errorf("deployer: %w", err)
	}
	defer func() { err = errors.Join(err, target.Close()) }()
	claimer, err := c.Hosts(ctx, cfg)
	if err != nil {
		return fmt.Errorf("deployer: %w", err)
	}
	if err := Migrate(ctx, c, claimer, target); err != nil {
		return fmt.Errorf("deployer: %w", err)
	}
	withTasks, err := WithTasks(ctx, cfg, c, target)
	if err != nil {
		return fmt.Errorf("deployer: %w", err)
	}
	h, err := DeployHandler(ctx, cfg, c, withTasks)
	if err != nil {
		return fmt.Errorf("deployer: %w", err)
	}
	h.Hosts = claimer
	table, err := NewEnvHosts(ctx, c)
	if err != nil {
		return fmt.Errorf("deployer: %w", err)
	}
	rel, err := newReleaseWorkflows(ctx, cfg, c, target, h.Locks, p)
	if err != nil {
		return fmt.Errorf("deployer: %w", err)
	}
	rel.Preview.Hosts = claimer
	rel.Notify.Config.URL = serviceURL(cfg, table)
	g, ctx := errgroup.WithContext(ctx)
	if cfg.ProxyAddr != "" {
		srv := &proxy.Server{Addr: cfg.ProxyAddr, Handler: proxy.New(target, cfg.ProxyDomain, proxy.WithHosts(table))}
		g.Go(func() error { return srv.Run(ctx) })
		logger(ctx).Info().Str("addr", cfg.ProxyAddr).Str("domain", cfg.ProxyDomain).Msg("proxy serving")
	}
	g.Go(func() error { return natsjs.CopyDeadLetters(ctx, c.JS, *logger(ctx)) })
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

// NewTarget connects to the Docker Engine.
func NewTarget(cfg *Config) (*docker.Target, error) {
	opts := docker.DefaultOptions()
	opts.HealthTimeout = cfg.HealthTimeout
	opts.Limits = cfg.Limits
	return docker.New(opts)
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
		Publisher: natsjs.NewPublisher(c.JS, "/slipway/deployer"),
		Store:     envs,
	}
	if err := orderDeploys(ctx, cfg, c, h); err != nil {
		return nil, err
	}
	return h, h.Config.Validate()
}
