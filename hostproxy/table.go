package hostproxy

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/proxy"
)

// Refresh is how often the table reads the daemon's containers again.
const Refresh = time.Second

var _ proxy.HostTable = (*Table)(nil)

// Table is a proxy.HostTable read from the labels of the live containers
// on one daemon.
type Table struct {
	cli *client.Client

	mu     sync.RWMutex
	routes map[string]proxy.Route
}

// NewTable returns the table of the daemon cli talks to; Run fills it.
func NewTable(cli *client.Client) *Table {
	return &Table{cli: cli, routes: map[string]proxy.Route{}}
}

// Lookup implements proxy.HostTable.
func (t *Table) Lookup(host string) (proxy.Route, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	r, ok := t.routes[host]
	return r, ok
}

// Repo implements proxy.HostTable: a host proxy routes declared host names
// only, no default host names.
func (t *Table) Repo(string) (string, bool) { return "", false }

// Run reads the table at once and again every Refresh until ctx ends. A
// read that fails keeps the previous table.
func (t *Table) Run(ctx context.Context) error {
	tick := time.NewTicker(Refresh)
	defer tick.Stop()
	for {
		if err := t.Load(ctx); err != nil && ctx.Err() == nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("read routes from docker")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Load reads the routes of the live containers once.
func (t *Table) Load(ctx context.Context) error {
	cs, err := t.cli.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", docker.LabelSpec), filters.Arg("status", "running"),
	)})
	if err != nil {
		return err
	}
	routes := map[string]proxy.Route{}
	taken := map[string]bool{} // declared by two environments
	for _, c := range cs {
		spec, ok := docker.SpecOf(c.Labels)
		if !ok {
			continue
		}
		r := proxy.Route{Repo: c.Labels[docker.LabelRepo], Env: docker.EnvOf(c.Names[0], c.Labels), Service: spec.Name}
		for _, h := range spec.Hosts {
			h = strings.ToLower(strings.TrimSuffix(h, "."))
			if old, ok := routes[h]; ok && old != r {
				taken[h] = true
			}
			routes[h] = r
		}
	}
	for h := range taken {
		delete(routes, h)
	}
	t.mu.Lock()
	t.routes = routes
	t.mu.Unlock()
	return nil
}
