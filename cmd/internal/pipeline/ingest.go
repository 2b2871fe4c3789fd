package pipeline

import (
	"context"
	"fmt"
	"net"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/forge"
	"github.com/slipway-dev/slipway/forge/gitea"
	"github.com/slipway-dev/slipway/forge/github"
	"github.com/slipway-dev/slipway/ingest"
)

// Forges returns the registry of every supported git host.
func Forges() (*forge.Registry, error) {
	return forge.NewRegistry(github.New(), gitea.New())
}

// IngestHandler builds the webhook receiver publishing through c.
func IngestHandler(cfg *Config, c *Conn) (*ingest.Handler, error) {
	forges, err := Forges()
	if err != nil {
		return nil, err
	}
	icfg := ingest.DefaultConfig()
	icfg.Secrets = cfg.RepoSecrets
	icfg.AllowUnknownRepos = cfg.AllowUnknownRepos
	if cfg.FallbackSecret != "" {
		icfg.FallbackSecrets = [][]byte{[]byte(cfg.FallbackSecret)}
	}
	return ingest.NewHandler(icfg, forges, natsjs.NewPublisher(c.JS, "/slipway/ingest"))
}

// RunIngest serves the webhook receiver on ln until ctx ends.
func RunIngest(ctx context.Context, cfg *Config, c *Conn, ln net.Listener) error {
	h, err := IngestHandler(cfg, c)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	log := logger(ctx).With().Str("component", "ingest").Logger()
	log.Info().Str("addr", ln.Addr().String()).Msg("receiving webhooks")
	return serve(ctx, ln, withLogger(log, h))
}
