package proxy

// HostTable names the service a host name of its own routes to: the hosts
// an environment of slipway.yaml declares for a service
// (environments.<env>.services.<svc>.hosts), besides
// "<service>.<env>.<domain>".
type HostTable interface {
	// Lookup returns the environment and service of host (lower-case,
	// without port or trailing dot).
	Lookup(host string) (env, service string, ok bool)
}

// WithHosts routes the host names of t before the
// "<service>.<env>.<domain>" names.
func WithHosts(t HostTable) Option {
	return func(p *Proxy) { p.hosts = t }
}

// lookupHost returns the route of a host of the table.
func (p *Proxy) lookupHost(host string) (route, bool) {
	if p.hosts == nil {
		return route{}, false
	}
	env, service, ok := p.hosts.Lookup(host)
	if !ok || env == "" || service == "" {
		return route{}, false
	}
	return route{env: env, service: service}, true
}
