package pipeline

import (
	"context"
	"fmt"
	"net"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/ingest"
	"github.com/slipway-dev/slipway/ingest/natsstream"
)

// IngestHandler builds the webhook receiver publishing through c and
// recording each delivery on its last event in the stream, whose records it
// follows until ctx ends.
func IngestHandler(ctx context.Context, cfg *Config, c *Conn) (*ingest.Handler, error) {
	forges, err := Forges(cfg.Webhooks)
	if err != nil {
		return nil, err
	}
	pub := natsjs.NewPublisher(c.JS, "/slipway/ingest")
	deliveries, err := natsstream.NewDeliveries(ctx, c.JS, pub)
	if err != nil {
		return nil, err
	}
	icfg := ingest.DefaultConfig()
	icfg.Secrets = cfg.RepoSecrets
	icfg.AllowUnknownRepos = cfg.AllowUnknownRepos
	if cfg.FallbackSecret != "" {
		icfg.FallbackSecrets = [][]byte{[]byte(cfg.FallbackSecret)}
	}
	icfg.MaxBodyBytes = cfg.Webhooks.MaxBodyBytes
	icfg.MaxConcurrentBodies = cfg.Receiver.MaxConcurrentBodies
	icfg.MaxBytesInFlight = cfg.Receiver.MaxBytesInFlight
	icfg.DefaultBranch = cfg.Webhooks.DefaultBranch
	return ingest.NewHandler(icfg, forges, pub, deliveries)
}

// RunIngest serves the webhook receiver on ln until ctx ends.
func RunIngest(ctx context.Context, cfg *Config, c *Conn, ln net.Listener) error {
	h, err := IngestHandler(ctx, cfg, c)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	log := logger(ctx).With().Str("component", "ingest").Logger()
	log.Info().Str("addr", ln.Addr().String()).Msg("receiving webhooks")
	return serve(ctx, ln, withLogger(log, cfg.observeWebhooks(h)), cfg.Receiver)
}
