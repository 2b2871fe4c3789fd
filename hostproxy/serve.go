package hostproxy

import (
	"context"
	"fmt"

	"github.com/docker/docker/client"
	"golang.org/x/sync/errgroup"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/proxy"
)

// Serve runs the host proxy on addr for the daemon at dockerHost
// (unix:///var/run/docker.sock when empty) until ctx ends.
func Serve(ctx context.Context, addr, dockerHost string) error {
	if dockerHost == "" {
		dockerHost = "unix:///var/run/docker.sock"
	}
	cli, err := client.NewClientWithOpts(client.WithHost(dockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		return fmt.Errorf("docker client: %w", err)
	}
	defer func() { _ = cli.Close() }() // only closes idle connections
	resolver, err := docker.New(docker.Options{Host: dockerHost})
	if err != nil {
		return err
	}
	defer func() { _ = resolver.Close() }()
	table := NewTable(cli)
	if err := table.Load(ctx); err != nil {
		return fmt.Errorf("read routes from %s: %w", dockerHost, err)
	}
	srv := &proxy.Server{Addr: addr, Handler: proxy.New(resolver, "", proxy.WithHosts(table))}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return table.Run(gctx) })
	g.Go(func() error { return srv.Run(gctx) })
	return g.Wait()
}
