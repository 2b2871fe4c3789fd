package proxy

// Route is one service of one environment of a repository.
type Route struct {
	Repo, Env, Service string
}

// route is a Route as the proxy caches it.
type route = Route

// HostTable tells the proxy what host names route to: the hosts
// environments claimed (the hosts slipway.yaml declares and the operator
// granted, environments.<env>.services.<svc>.hosts), and the repository of
// each host label of the default hosts "<service>.<env>.<label>.<domain>".
type HostTable interface {
	// Lookup returns the route of a claimed host (lower-case, without port
	// or trailing dot).
	Lookup(host string) (Route, bool)
	// Repo returns the repository whose host label is label.
	Repo(label string) (string, bool)
}

// StaticHosts is a HostTable of fixed maps.
type StaticHosts struct {
	Hosts  map[string]Route  // claimed host to its route
	Labels map[string]string // host label to its repository
}

// Lookup implements HostTable.
func (s StaticHosts) Lookup(host string) (Route, bool) {
	r, ok := s.Hosts[host]
	return r, ok
}

// Repo implements HostTable.
func (s StaticHosts) Repo(label string) (string, bool) {
	r, ok := s.Labels[label]
	return r, ok
}

// WithHosts routes host names through t: its claimed hosts first, then the
// default hosts of the repositories it knows. Without a table the proxy
// routes nothing.
func WithHosts(t HostTable) Option {
	return func(p *Proxy) { p.hosts = t }
}

// lookupHost returns the route of a host of the table.
func (p *Proxy) lookupHost(host string) (route, bool) {
	if p.hosts == nil {
		return route{}, false
	}
	rt, ok := p.hosts.Lookup(host)
	if !ok || rt.Repo == "" || rt.Env == "" || rt.Service == "" {
		return route{}, false
	}
	return rt, true
}

// defaultRoute returns the route of a default host's parts.
func (p *Proxy) defaultRoute(service, env, label string) (route, bool) {
	if p.hosts == nil {
		return route{}, false
	}
	repo, ok := p.hosts.Repo(label)
	if !ok || repo == "" {
		return route{}, false
	}
	return route{Repo: repo, Env: env, Service: service}, true
}
