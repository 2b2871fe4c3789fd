package pipeline

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/proxy"
	"github.com/slipway-dev/slipway/workflows/hosts"
)

// hostsTTL is how long the proxy's table of host names is reused.
const hostsTTL = 2 * time.Second

// missRefresh is how old the table must be before a request for a host
// label it does not know reads it again at once: a repository another
// deployer gave its label (a failover, several deployers) is served on the
// first request, and a flood of unknown names costs at most one read per
// missRefresh.
const missRefresh = 250 * time.Millisecond

// HostStore returns the store of host claims and labels.
func (c *Conn) HostStore(ctx context.Context) (*natsstore.HostStore, error) {
	kv, err := c.JS.KeyValue(ctx, natsjs.BucketHosts)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", natsjs.BucketHosts, err)
	}
	return natsstore.NewHostStore(kv), nil
}

// Hosts returns the rules of the host names a deploy may claim: the
// operator's grants (-host-grant) under the proxy's domain.
func (c *Conn) Hosts(ctx context.Context, cfg *Config) (*hosts.Claimer, error) {
	store, err := c.HostStore(ctx)
	if err != nil {
		return nil, err
	}
	return &hosts.Claimer{Store: store, Grants: cfg.HostGrants, Domain: cfg.ProxyDomain}, nil
}

// EnvHosts is the proxy's table of host names: the hosts environments
// claimed (KV slipway_hosts, see package hosts) and the host labels of the
// repositories, read at start and refreshed at most every hostsTTL. Refreshes
// run in the background: a request never waits on NATS, so the proxy keeps
// serving while the cluster elects a new leader or is away.
type EnvHosts struct {
	store *natsstore.HostStore

	missMu sync.Mutex // one synchronous read for unknown labels at a time

	mu      sync.Mutex
	table   hostTable
	loaded  time.Time
	loading bool
}

// hostTable is one reading of the claims and labels.
type hostTable struct {
	routes map[string]proxy.Route
	labels map[string]string // label to repository
	repos  map[string]string // repository to label
}

var _ proxy.HostTable = (*EnvHosts)(nil)

// NewEnvHosts returns the host table read through c, loaded once before it
// returns (or empty, refreshed on the first request, when NATS does not
// answer within a few seconds).
func NewEnvHosts(ctx context.Context, c *Conn) (*EnvHosts, error) {
	store, err := c.HostStore(ctx)
	if err != nil {
		return nil, err
	}
	h := &EnvHosts{store: store}
	if t, err := h.load(); err == nil {
		h.table, h.loaded = t, time.Now()
	}
	return h, nil
}

// Lookup implements proxy.HostTable.
func (h *EnvHosts) Lookup(host string) (proxy.Route, bool) {
	t := h.current()
	r, ok := t.routes[host]
	return r, ok
}

// Repo implements proxy.HostTable. A label the table does not know is
// looked up again in a table read at once, unless the table is younger than
// missRefresh.
func (h *EnvHosts) Repo(label string) (string, bool) {
	if r, ok := h.current().labels[label]; ok {
		return r, true
	}
	r, ok := h.reread().labels[label]
	return r, ok
}

// reread reads the table now unless it is younger than missRefresh, waiting
// for a read already under way instead of starting another.
func (h *EnvHosts) reread() hostTable {
	h.missMu.Lock()
	defer h.missMu.Unlock()
	h.mu.Lock()
	fresh := time.Since(h.loaded) < missRefresh
	table := h.table
	h.mu.Unlock()
	if fresh {
		return table
	}
	t, err := h.load()
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		h.table = t
	}
	h.loaded = time.Now()
	return h.table
}

// Label returns the host label of repo, as last read.
func (h *EnvHosts) Label(repo string) (string, bool) {
	t := h.current()
	l, ok := t.repos[repo]
	return l, ok
}

// current returns the table, starting a refresh when it is old.
func (h *EnvHosts) current() hostTable {
	h.mu.Lock()
	defer h.mu.Unlock()
	if time.Since(h.loaded) > hostsTTL && !h.loading {
		h.loading = true
		go h.refresh()
	}
	return h.table
}

// refresh reads the table again; on failure the previous one stays.
func (h *EnvHosts) refresh() {
	table, err := h.load()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.loading, h.loaded = false, time.Now()
	if err == nil {
		h.table = table
	}
}

// load reads every claim and label.
func (h *EnvHosts) load() (hostTable, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	claims, err := h.store.List(ctx)
	if err != nil {
		return hostTable{}, err
	}
	labels, err := h.store.Labels(ctx)
	if err != nil {
		return hostTable{}, err
	}
	t := hostTable{routes: map[string]proxy.Route{}, labels: labels, repos: map[string]string{}}
	for _, c := range claims {
		t.routes[c.Host] = proxy.Route{Repo: c.Repo, Env: c.Env, Service: c.Service}
	}
	for l, r := range labels {
		t.repos[r] = l
	}
	return t, nil
}
