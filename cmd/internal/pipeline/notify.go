package pipeline

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forgeapi"
	"github.com/slipway-dev/slipway/workflows/hosts"
	"github.com/slipway-dev/slipway/workflows/notify"
	"github.com/slipway-dev/slipway/workflows/preview"
)

// ForgeSettings is a repeatable flag of "kind=value" per git host kind
// (github, gitea, forgejo, gitlab, bitbucket). Secret ones print no value.
type ForgeSettings struct {
	m      map[string]string
	secret bool
}

// Get returns the value of kind.
func (f *ForgeSettings) Get(kind string) string { return f.m[kind] }

// String implements flag.Value; secret values are hidden.
func (f *ForgeSettings) String() string {
	if f == nil {
		return ""
	}
	var out []string
	for k, v := range f.m {
		if f.secret {
			v = "***"
		}
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// kinds returns the kinds with a value, sorted.
func (f *ForgeSettings) kinds() []string {
	var out []string
	for k := range f.m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Set implements flag.Value: "kind=value", several separated by commas.
func (f *ForgeSettings) Set(v string) error {
	if f.m == nil {
		f.m = map[string]string{}
	}
	for _, item := range strings.Split(v, ",") {
		kind, val, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || kind == "" || val == "" {
			if f.secret {
				return fmt.Errorf("want kind=token (the value is not shown)")
			}
			return fmt.Errorf("want kind=value, got %q", item)
		}
		f.m[strings.ToLower(kind)] = val
	}
	return nil
}

// forgeClients hands out the API client of a repository's host when a
// token is configured for its kind.
type forgeClients struct {
	tokens, apis *ForgeSettings

	mu      sync.Mutex
	clients map[string]forgeapi.Client
}

func newForgeClients(r *ReleaseConfig) *forgeClients {
	r.ForgeTokens.secret = true
	return &forgeClients{tokens: &r.ForgeTokens, apis: &r.ForgeAPIs, clients: map[string]forgeapi.Client{}}
}

// kinds are the names a host kind answers to, most specific first.
func kinds(forge string) []string {
	switch forge {
	case "forgejo", "gogs":
		return []string{forge, forgeapi.KindGitea}
	}
	return []string{forge}
}

// client returns the client of repo's host, false without a token.
func (f *forgeClients) client(repo events.Repo) (forgeapi.Client, bool) {
	var kind, token, base string
	for _, k := range kinds(repo.Forge) {
		if t := f.tokens.Get(k); t != "" && token == "" {
			kind, token = k, t
		}
		if b := f.apis.Get(k); b != "" && base == "" {
			base = b
		}
	}
	if token == "" {
		return nil, false
	}
	if base == "" && forgeapi.DefaultBase[kind] == "" {
		base = hostOf(repo.CloneURL) // self-hosted Gitea and Forgejo
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := kind + " " + base
	if c, ok := f.clients[key]; ok {
		return c, true
	}
	c, err := forgeapi.New(kind, base, token)
	if err != nil {
		return nil, false
	}
	f.clients[key] = c
	return c, true
}

// check asks the API of every host kind with a token who the token
// belongs to, once, and logs what is wrong (a refused token, a URL with no
// API, a host unreachable), never the token. A Gitea or Forgejo without
// -forge-api is reached at each repository's host, unknown until then.
func (f *forgeClients) check(ctx context.Context) {
	log := logger(ctx)
	for _, kind := range f.tokens.kinds() {
		var base string
		for _, k := range kinds(kind) {
			if base == "" {
				base = f.apis.Get(k)
			}
		}
		if base == "" {
			base = forgeapi.DefaultBase[kind]
		}
		if base == "" {
			log.Info().Str("kind", kind).Msg("git host API: no -forge-api, each repository's host is used; not checked at start")
			continue
		}
		c, err := forgeapi.New(kind, base, f.tokens.Get(kind))
		if err != nil {
			log.Error().Err(err).Str("kind", kind).Msg("git host API: no client")
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, forgeapi.Timeout)
		user, err := forgeapi.Check(cctx, c)
		cancel()
		if err != nil {
			log.Error().Err(err).Str("kind", kind).Str("api", forgeapi.NormalizeBase(kind, base)).Msg("git host API check failed: commit statuses and comments will not reach it")
			continue
		}
		log.Info().Str("kind", kind).Str("api", forgeapi.NormalizeBase(kind, base)).Str("user", user).Msg("git host API answers")
	}
}

// hostOf returns scheme://host of a clone URL.
func hostOf(cloneURL string) string {
	u, err := url.Parse(cloneURL)
	if err != nil || u.Host == "" {
		return ""
	}
	scheme := u.Scheme
	if scheme != "http" {
		scheme = "https"
	}
	return scheme + "://" + u.Host
}

// hosts is notify.Hosts over the configured clients.
func (f *forgeClients) hosts(repo events.Repo) (notify.Host, bool) {
	c, ok := f.client(repo)
	if !ok {
		return nil, false
	}
	return c, true
}

// pullRequests asks the host's API whether a pull request is open when a
// token is configured, and otherwise falls back.
type pullRequests struct {
	f        *forgeClients
	fallback preview.PullRequests
}

func (p pullRequests) IsOpen(ctx context.Context, pv preview.Preview) (bool, error) {
	if c, ok := p.f.client(pv.Repo); ok {
		return c.PullRequestOpen(ctx, pv.Repo, pv.Number)
	}
	return p.fallback.IsOpen(ctx, pv)
}

// serviceURL returns the proxy address of a service, for status links: its
// default host, with the label of its repository in table.
func serviceURL(cfg *Config, table *EnvHosts) func(repo, env, service string) string {
	if cfg.ProxyAddr == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(cfg.ProxyAddr)
	if err != nil {
		return nil
	}
	return func(repo, env, service string) string {
		label, ok := table.Label(repo)
		if !ok {
			return ""
		}
		return "http://" + hosts.DefaultHost(service, env, label, cfg.ProxyDomain) + ":" + port + "/"
	}
}
