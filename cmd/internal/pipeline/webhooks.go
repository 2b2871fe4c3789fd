package pipeline

import (
	"flag"
	"fmt"
	"net/url"

	"github.com/slipway-dev/slipway/forge"
	"github.com/slipway-dev/slipway/forge/azuredevops"
	"github.com/slipway-dev/slipway/forge/bitbucket"
	"github.com/slipway-dev/slipway/forge/bitbucketserver"
	"github.com/slipway-dev/slipway/forge/generic"
	"github.com/slipway-dev/slipway/forge/gitea"
	"github.com/slipway-dev/slipway/forge/github"
	"github.com/slipway-dev/slipway/forge/gitlab"
	"github.com/slipway-dev/slipway/ingest"
)

// WebhookConfig holds the webhook receiver's settings beyond secrets.
type WebhookConfig struct {
	// MaxBodyBytes caps a delivery's body; larger is 413.
	MaxBodyBytes int64
	// DefaultBranch is the default branch of repositories whose host does
	// not name it in its payloads (Bitbucket).
	DefaultBranch string
	// GitHubSHA1 accepts GitHub deliveries signed only with the legacy
	// SHA-1 X-Hub-Signature.
	GitHubSHA1 bool
	// BitbucketServerURL is the base URL of a Bitbucket Server or Data
	// Center, from which clone URLs are built when its payloads carry none.
	BitbucketServerURL string
}

// DefaultWebhookConfig returns the receiver's defaults.
func DefaultWebhookConfig() WebhookConfig {
	return WebhookConfig{MaxBodyBytes: ingest.DefaultMaxBodyBytes, DefaultBranch: "main"}
}

// Bind binds the settings to fs.
func (w *WebhookConfig) Bind(fs *flag.FlagSet) {
	fs.Int64Var(&w.MaxBodyBytes, "max-body-bytes", w.MaxBodyBytes, "largest webhook body accepted; larger is answered 413")
	fs.StringVar(&w.DefaultBranch, "default-branch", w.DefaultBranch, "default branch of repositories whose git host does not name it in webhooks (Bitbucket)")
	fs.BoolVar(&w.GitHubSHA1, "github-allow-sha1", w.GitHubSHA1, "accept GitHub deliveries signed only with the legacy SHA-1 X-Hub-Signature")
	fs.StringVar(&w.BitbucketServerURL, "bitbucket-server-url", w.BitbucketServerURL, "base URL of your Bitbucket Server/Data Center, for clone URLs its webhooks leave out")
}

// Forges returns the registry of every supported git host: routes
// /webhooks/github, gitea (and its aliases forgejo, gogs), gitlab, bitbucket,
// bitbucketserver, azuredevops and generic.
func Forges(w WebhookConfig) (*forge.Registry, error) {
	if u, err := url.Parse(w.BitbucketServerURL); w.BitbucketServerURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return nil, fmt.Errorf("bitbucket server url %q: want http(s)://host[/path]", w.BitbucketServerURL)
	}
	var gh []github.Option
	if w.GitHubSHA1 {
		gh = append(gh, github.WithSHA1())
	}
	return forge.NewRegistry(
		github.New(gh...),
		gitea.New(),
		gitlab.New(),
		bitbucket.New(),
		bitbucketserver.New(bitbucketserver.WithBaseURL(w.BitbucketServerURL)),
		azuredevops.New(),
		generic.New(),
	)
}
