package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// DefaultDomain is the domain New uses when given none: every name under
// "localhost" resolves to the loopback address.
const DefaultDomain = "localhost"

// DefaultTTL is how long a resolution is reused.
const DefaultTTL = time.Second

// Resolver returns every host:port serving service in env of repo, one per
// replica; the proxy spreads requests over them in turn.
type Resolver interface {
	ResolveAll(ctx context.Context, repo, env, service string) ([]string, error)
}

// Dialer connects to an address its Resolver returned. A Resolver that is
// also a Dialer (target.Placement, a target.Target) is dialled through it:
// the proxy reaches a replica the way its target says, never assuming it
// runs on this machine. Otherwise addresses are dialled directly.
type Dialer interface {
	Dial(ctx context.Context, network, addr string) (net.Conn, error)
}

// Proxy routes requests by Host header to the services of environments. It
// is an http.Handler.
type Proxy struct {
	domain string
	routes *routes
	rp     *httputil.ReverseProxy
	hosts  HostTable
	// flights counts the requests in flight per address (WithFlights).
	flights *Flights
	splits  *splitter // nil without WithSplits
	seen    Observer  // nil without WithObserver
}

// Observer is told each request the proxy answered for a service of an
// environment (metrics.Metrics): its status code and how long it took.
// A request for no known host is not told; one for a service or an
// environment that resolved to no container is told with empty names,
// so a Host header never makes a label.
type Observer interface {
	Proxied(repo, env, service string, code int, took time.Duration)
}

// WithObserver tells o of each request answered.
func WithObserver(o Observer) Option {
	return func(p *Proxy) { p.seen = o }
}

// Option changes a Proxy made by New.
type Option func(*Proxy)

// WithTTL sets how long a resolution is reused; DefaultTTL otherwise.
func WithTTL(ttl time.Duration) Option {
	return func(p *Proxy) { p.routes.ttl = ttl }
}

// New returns a Proxy for hosts "<service>.<env>.<label>.<domain>" and the
// hosts of its HostTable (WithHosts). An empty domain is DefaultDomain.
func New(resolver Resolver, domain string, opts ...Option) *Proxy {
	domain = strings.Trim(strings.ToLower(domain), ".")
	if domain == "" {
		domain = DefaultDomain
	}
	rt := newRoutes(resolver, DefaultTTL)
	p := &Proxy{domain: domain, routes: rt}
	p.rp = &httputil.ReverseProxy{
		Rewrite:      rewrite,
		Transport:    transport(rt, dialerOf(resolver)),
		ErrorHandler: p.upstreamError,
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// ServeHTTP forwards r to the live container of the service its host names.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, ok := p.route(r.Host)
	if !ok {
		http.Error(w, fmt.Sprintf("slipway: no service answers to host %q; use <service>.<env>.<repository>.%s", r.Host, p.domain), http.StatusNotFound)
		return
	}
	if p.seen != nil {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		unresolved := new(bool)
		r = r.WithContext(context.WithValue(r.Context(), unresolvedKey{}, unresolved))
		defer func() {
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			seen := rt
			if *unresolved { // names from the Host header, not a deployed service: not a label
				seen = route{}
			}
			p.seen.Proxied(seen.Repo, seen.Env, seen.Service, sw.status, time.Since(start))
		}()
		w = sw
	}
	if p.splits != nil {
		p.serveSplit(w, r, rt)
		return
	}
	p.forward(w, r, rt)
}

// serveSplit forwards r to the release of rt's environment the split
// chooses, counting the answer while the environment is in a rollout. When
// the shadow has no live container any more (a promoted canary's moved
// into the environment), the environment answers.
func (p *Proxy) serveSplit(w http.ResponseWriter, r *http.Request, rt route) {
	to, shadow, counted := p.splits.choose(r.Context(), rt)
	if !counted {
		p.forward(w, r, rt)
		return
	}
	addr, err := p.routes.resolve(r.Context(), to)
	if err != nil && shadow {
		to, shadow = rt, false
		addr, err = p.routes.resolve(r.Context(), rt)
	}
	if err != nil {
		p.noLive(w, r, to, err)
		return
	}
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	p.forwardTo(sw, r, to, addr)
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	p.splits.observe(envRef{rt.Repo, rt.Env}, shadow, sw.status, time.Since(start))
}

// forward forwards r to a live container of rt.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, rt route) {
	addr, err := p.routes.resolve(r.Context(), rt)
	if err != nil {
		p.noLive(w, r, rt, err)
		return
	}
	p.forwardTo(w, r, rt, addr)
}

// forwardTo forwards r to addr, a live container of rt.
func (p *Proxy) forwardTo(w http.ResponseWriter, r *http.Request, rt route, addr string) {
	ctx := context.WithValue(r.Context(), upstreamKey{}, upstream{route: rt, addr: addr})
	defer p.flights.start(addr)()
	p.rp.ServeHTTP(w, r.WithContext(ctx))
}

// noLive answers a request for rt that no live container serves.
func (p *Proxy) noLive(w http.ResponseWriter, r *http.Request, rt route, err error) {
	zerolog.Ctx(r.Context()).Debug().Err(err).Str("repo", rt.Repo).Str("env", rt.Env).Str("service", rt.Service).Msg("proxy: resolve")
	if u, ok := r.Context().Value(unresolvedKey{}).(*bool); ok {
		*u = true
	}
	http.Error(w, fmt.Sprintf("slipway: no live container for service %q in environment %q of %s", rt.Service, rt.Env, rt.Repo), http.StatusBadGateway)
}

// route returns the route of host: a host of the table, or a default host
// "<service>.<env>.<label>.<domain>[:port]".
func (p *Proxy) route(host string) (route, bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if rt, ok := p.lookupHost(host); ok {
		return rt, true
	}
	prefix, ok := strings.CutSuffix(host, "."+p.domain)
	if !ok {
		return route{}, false
	}
	parts := strings.Split(prefix, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return route{}, false
	}
	return p.defaultRoute(parts[0], parts[1], parts[2])
}

// unresolvedKey marks, in an observed request's context, a route that
// resolved to no container.
type unresolvedKey struct{}

// upstream is where a request being proxied goes.
type upstream struct {
	route
	addr string
}

// upstreamKey is the context key of a request's upstream.
type upstreamKey struct{}

// rewrite points the outbound request at the resolved container address,
// keeping the inbound Host header.
func rewrite(pr *httputil.ProxyRequest) {
	up := pr.In.Context().Value(upstreamKey{}).(upstream)
	pr.Out.URL.Scheme = "http"
	pr.Out.URL.Host = up.addr
	pr.Out.Host = pr.In.Host
	pr.SetXForwarded()
}

// upstreamError answers a request whose container could not be reached.
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	rt, _ := r.Context().Value(upstreamKey{}).(upstream)
	if errors.Is(err, context.Canceled) {
		return // the client went away
	}
	zerolog.Ctx(r.Context()).Warn().Err(err).Str("repo", rt.Repo).Str("env", rt.Env).Str("service", rt.Service).Msg("proxy: upstream")
	http.Error(w, fmt.Sprintf("slipway: service %q in environment %q of %s is not reachable", rt.Service, rt.Env, rt.Repo), http.StatusBadGateway)
}
