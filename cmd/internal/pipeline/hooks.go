package pipeline

import (
	"context"
	"net"
	"os"
	"sort"

	"github.com/rs/zerolog"
)

// HookEvents are, per route of /webhooks/<route>, the events to enable on
// the git host's webhook; the README's table says the same.
var HookEvents = map[string]string{
	"github":          "push, pull_request",
	"gitea":           "push, pull request (opened, synchronized, closed, reopened), delete",
	"forgejo":         "push, pull request (opened, synchronized, closed, reopened), delete",
	"gogs":            "push, pull request, delete",
	"gitlab":          "push events, tag push events, merge request events",
	"bitbucket":       "repo:push, pullrequest:created, pullrequest:updated, pullrequest:fulfilled, pullrequest:rejected",
	"bitbucketserver": "repo:refs_changed, pr:opened, pr:from_ref_updated, pr:merged, pr:declined, pr:deleted, pr:reopened",
	"azuredevops":     "git.push, git.pullrequest.created, git.pullrequest.updated, git.pullrequest.merged",
	"generic":         "push, pull_request (the body's event)",
}

// LogHooks logs, for each configured repository, the webhook URL to set on
// its git host (one route per host kind) and the events to enable there.
func (u *Up) LogHooks(ctx context.Context) {
	base := hookBase(u.ln.Addr().String())
	repos := make([]string, 0, len(u.Config.RepoSecrets))
	for r := range u.Config.RepoSecrets {
		repos = append(repos, r)
	}
	sort.Strings(repos)
	routes := make([]string, 0, len(HookEvents))
	for route := range HookEvents {
		routes = append(routes, route)
	}
	sort.Strings(routes)
	for _, r := range repos {
		events := zerolog.Dict()
		for _, route := range routes {
			events = events.Str(base+"/webhooks/"+route, HookEvents[route])
		}
		logger(ctx).Info().Str("repo", r).Str("hook", base+"/webhooks/<forge>").Dict("events", events).
			Msg("webhook to set on the repository's git host: the URL of its kind, content type JSON, its secret, these events")
	}
}

// hookBase is the URL a git host reaches the webhook listener at addr
// with: this machine's name when it listens on every interface.
func hookBase(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if name, err := os.Hostname(); err == nil {
			host = name
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}
