package main

import (
	"context"
	"flag"
	"os"

	"github.com/peterbourgon/ff/v3"
	"github.com/peterbourgon/ff/v3/ffcli"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/hostproxy"
)

// hostProxyCommand is `slipway host-proxy`: the proxy each remote Docker
// host runs as a container (sshhost starts it), routing the host names of
// the containers on that host to them.
func hostProxyCommand() *ffcli.Command {
	fs := flag.NewFlagSet("slipway host-proxy", flag.ContinueOnError)
	addr := fs.String("addr", ":80", "address to listen on (`SLIPWAY_HOST_PROXY_ADDR`)")
	dockerHost := fs.String("docker", "unix:///var/run/docker.sock", "the host's Docker daemon (`SLIPWAY_HOST_PROXY_DOCKER`)")
	return &ffcli.Command{
		Name:       "host-proxy",
		ShortUsage: "slipway host-proxy [-addr :80] [-docker unix:///var/run/docker.sock]",
		ShortHelp:  "route the host names of this Docker host's environments to their containers (runs on each remote host)",
		FlagSet:    fs,
		Options:    []ff.Option{ff.WithEnvVarPrefix("SLIPWAY_HOST_PROXY")},
		Exec: func(ctx context.Context, _ []string) error {
			log := zerolog.New(os.Stderr).With().Timestamp().Logger()
			log.Info().Str("addr", *addr).Msg("host proxy serving")
			return hostproxy.Serve(log.WithContext(ctx), *addr, *dockerHost)
		},
	}
}
