package pipeline

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/slipway-dev/slipway/proxy"
)

// hostsTTL is how long the proxy's table of declared host names is reused.
const hostsTTL = 2 * time.Second

// envHosts is the proxy's table of the host names environments declare for
// their services (slipway.yaml environments.<env>.services.<svc>.hosts),
// read from what each environment runs and refreshed at most every
// hostsTTL. When two environments claim a host, the first by name wins.
// Refreshes run in the background: a request never waits on NATS, so the
// proxy keeps serving while the cluster elects a new leader or is away.
type envHosts struct {
	c *Conn

	mu      sync.Mutex
	table   map[string][2]string
	loaded  time.Time
	loading bool
}

var _ proxy.HostTable = (*envHosts)(nil)

// NewEnvHosts returns the host table read through c.
func NewEnvHosts(c *Conn) proxy.HostTable { return &envHosts{c: c} }

// Lookup implements proxy.HostTable.
func (h *envHosts) Lookup(host string) (string, string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if time.Since(h.loaded) > hostsTTL && !h.loading {
		h.loading = true
		go h.refresh()
	}
	r, ok := h.table[host]
	return r[0], r[1], ok
}

// refresh reads the table again; on failure the previous one stays.
func (h *envHosts) refresh() {
	table, err := h.load()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.loading, h.loaded = false, time.Now()
	if err == nil {
		h.table = table
	}
}

// load reads the host names every environment declares.
func (h *envHosts) load() (map[string][2]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	envs, err := h.c.Envs(ctx)
	if err != nil {
		return nil, err
	}
	states, err := envs.List(ctx)
	if err != nil {
		return nil, err
	}
	sort.Slice(states, func(i, j int) bool { return states[i].Env < states[j].Env })
	table := map[string][2]string{}
	for _, st := range states {
		for _, img := range st.Images {
			for _, host := range img.Service.Hosts {
				host = strings.ToLower(host)
				if _, taken := table[host]; !taken {
					table[host] = [2]string{st.Env, img.Service.Name}
				}
			}
		}
	}
	return table, nil
}
