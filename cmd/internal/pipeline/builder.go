package pipeline

import (
	"context"
	"fmt"
	"sync"

	"github.com/slipway-dev/slipway/buildkit"
	"github.com/slipway-dev/slipway/buildlog"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/registry"
	"github.com/slipway-dev/slipway/workflows/build"
)

// RunBuilder consumes push and build events until ctx ends.
func RunBuilder(ctx context.Context, cfg *Config, c *Conn) error {
	return runBuilder(ctx, cfg, c, nil)
}

// runBuilder is RunBuilder with the planning p, or one of its own when p
// is nil.
func runBuilder(ctx context.Context, cfg *Config, c *Conn, p *Planning) error {
	ctx = logger(ctx).With().Str("component", "builder").Logger().WithContext(ctx)
	h, closeFn, err := buildHandler(ctx, cfg, c, p)
	if err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	defer closeFn()
	logger(ctx).Info().Str("buildkit", cfg.BuildkitHost).Str("registry", cfg.Registry).
		Strs("base_image_allow", cfg.BaseImageAllow).Msg("building")
	steps, err := newInflight(ctx, c, "build")
	if err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	var resumed sync.WaitGroup
	resumed.Add(1)
	go func() { defer resumed.Done(); resume(ctx, steps, h.HandleBuild) }()
	defer resumed.Wait()
	return c.withDeadLetters(ctx, func(ctx context.Context) error {
		return c.runner(ctx, cfg).Run(ctx, routes(partBuild, handlers{cfg: cfg, build: h, builds: steps, checks: checkHandler(h)})...)
	})
}

// BuildHandler wires the build workflow to git, BuildKit and JetStream.
func BuildHandler(ctx context.Context, cfg *Config, c *Conn) (*build.Handler, func(), error) {
	return buildHandler(ctx, cfg, c, nil)
}

// buildHandler is BuildHandler with the planning p, or one of its own when
// p is nil.
func buildHandler(ctx context.Context, cfg *Config, c *Conn, p *Planning) (*build.Handler, func(), error) {
	claims, err := c.claims(ctx)
	if err != nil {
		return nil, nil, err
	}
	if p == nil {
		if p, err = builderPlanning(cfg, c); err != nil {
			return nil, nil, err
		}
	}
	access, err := cfg.registryAccess()
	if err != nil {
		return nil, nil, err
	}
	bk, err := buildkit.New(ctx, cfg.BuildkitHost, buildkit.AllowBaseImages(cfg.BaseImageAllow...), buildkit.WithRegistry(access))
	if err != nil {
		return nil, nil, err
	}
	tagger, err := registry.New(cfg.Registry, access)
	if err != nil {
		_ = bk.Close()
		return nil, nil, err
	}
	h := &build.Handler{
		Config:    build.Config{Registry: cfg.Registry, ClaimTTL: cfg.ClaimTTL},
		Source:    p.Mirror,
		Builder:   limitSolves(bk, cfg.BuildWorkers),
		Claims:    claims,
		Publisher: cfg.observed(natsjs.NewPublisher(c.JS, builderSource)),
		Planner:   p.Planner,
		Objects:   p.Mirror,
		Outputs:   natsstore.NewOutputs(claims.KV()),
		Tagger:    tagger,
		Logs:      &buildlog.Logs{JS: c.JS},
	}
	if err := h.Config.Validate(); err != nil {
		_ = bk.Close()
		return nil, nil, err
	}
	return h, func() { _ = bk.Close() }, nil
}
