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
type envHosts struct {
	c *Conn

	mu     sync.Mutex
	table  map[string][2]string
	loaded time.Time
}

var _ proxy.HostTable = (*envHosts)(nil)

// NewEnvHosts returns the host table read through c.
func NewEnvHosts(c *Conn) proxy.HostTable { return &envHosts{c: c} }

// Lookup implements proxy.HostTable.
func (h *envHosts) Lookup(host string) (string, string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if time.Since(h.loaded) > hostsTTL {
		h.load()
	}
	r, ok := h.table[host]
	return r[0], r[1], ok
}

// load reads the table again; on failure the previous one stays.
func (h *envHosts) load() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	h.loaded = time.Now()
	envs, err := h.c.Envs(ctx)
	if err != nil {
		return
	}
	states, err := envs.List(ctx)
	if err != nil {
		return
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
	h.table = table
}
