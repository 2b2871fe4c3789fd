package pipeline

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/events/natsjs"
)

// Config is the configuration of every component; each binary binds the
// parts it uses.
type Config struct {
	// NATS
	NATSURL    string
	DataDir    string
	NATSPort   int
	SyncAlways bool
	Topology   natsjs.Topology

	// ingest
	HTTPAddr          string
	RepoSecrets       RepoSecrets
	RepoSecretsFile   string
	AllowUnknownRepos bool
	FallbackSecret    string
	Webhooks          WebhookConfig
	Limits            ReceiverLimits

	// builder
	BuildkitHost string
	Registry     string
	MirrorDir    string
	ClaimTTL     time.Duration

	// deployer
	StagingEnv    string
	ProxyAddr     string
	ProxyDomain   string
	HealthTimeout time.Duration
	DeployWorkers int
	LockTTL       time.Duration
	// Release configures environments, releases and previews (release.go).
	Release ReleaseConfig

	LogLevel  string
	LogFormat string
}

// DefaultConfig returns the configuration of one machine.
func DefaultConfig() Config {
	return Config{
		DataDir:       defaultDataDir(),
		NATSPort:      4222,
		Topology:      natsjs.DefaultTopology(),
		HTTPAddr:      "127.0.0.1:7700",
		RepoSecrets:   RepoSecrets{},
		Webhooks:      DefaultWebhookConfig(),
		Limits:        DefaultReceiverLimits(),
		BuildkitHost:  "unix:///run/buildkit/buildkitd.sock",
		Registry:      "localhost:5000",
		ClaimTTL:      30 * time.Second,
		StagingEnv:    "staging",
		ProxyAddr:     "127.0.0.1:8080",
		ProxyDomain:   "localhost",
		HealthTimeout: 30 * time.Second,
		DeployWorkers: 4,
		LockTTL:       30 * time.Second,
		LogLevel:      "info",
		LogFormat:     "console",
	}
}

func defaultDataDir() string {
	if d := os.Getenv("SLIPWAY_HOME"); d != "" {
		return filepath.Join(d, "data")
	}
	return "/var/lib/slipway/data"
}

// BindNATS binds the NATS settings to fs.
func (c *Config) BindNATS(fs *flag.FlagSet) {
	fs.StringVar(&c.NATSURL, "nats-url", c.NATSURL, "NATS server or cluster URL(s), comma-separated; empty in `slipway up` runs an embedded server")
	fs.IntVar(&c.Topology.Replicas, "replicas", c.Topology.Replicas, "JetStream replicas of the stream, consumers and buckets (3 on a cluster)")
	fs.DurationVar(&c.Topology.DuplicateWindow, "duplicate-window", c.Topology.DuplicateWindow, "how long JetStream deduplicates a message id")
	fs.DurationVar(&c.Topology.AckWait, "ack-wait", c.Topology.AckWait, "how long a delivered event may go without an ack or in-progress signal")
	fs.IntVar(&c.Topology.MaxDeliver, "max-deliver", c.Topology.MaxDeliver, "how many times a failing event is delivered")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "trace, debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "console or json")
}

// BindEmbedded binds the settings of the embedded NATS server.
func (c *Config) BindEmbedded(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory of the embedded NATS server's JetStream store")
	fs.IntVar(&c.NATSPort, "nats-port", c.NATSPort, "port of the embedded NATS server (on 127.0.0.1); -1 picks a free one")
	fs.BoolVar(&c.SyncAlways, "sync-always", c.SyncAlways, "fsync every JetStream write before acknowledging it (slower, survives power loss)")
}

// BindIngest binds the webhook receiver's settings.
func (c *Config) BindIngest(fs *flag.FlagSet) {
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "address the webhook receiver listens on")
	fs.StringVar(&c.RepoSecretsFile, "repo-secrets-file", c.RepoSecretsFile, "file of owner/name=secret lines, readable by its owner only (chmod 600): the repositories and their webhook secrets")
	fs.Var(&c.RepoSecrets, "repo-secret", "owner/name=secret: a repository and its webhook secret (repeat; several per repository for rotation); prefer -repo-secrets-file or SLIPWAY_REPO_SECRET, a flag is visible to local users")
	fs.BoolVar(&c.AllowUnknownRepos, "allow-unknown-repos", c.AllowUnknownRepos, "accept repositories without their own secret, verified with -fallback-secret")
	fs.StringVar(&c.FallbackSecret, "fallback-secret", c.FallbackSecret, "webhook secret of repositories not listed with -repo-secret; prefer SLIPWAY_FALLBACK_SECRET, a flag is visible to local users")
	c.Webhooks.Bind(fs)
	c.Limits.Bind(fs)
}

// BindBuilder binds the builder's settings.
func (c *Config) BindBuilder(fs *flag.FlagSet) {
	fs.StringVar(&c.BuildkitHost, "buildkit-host", c.BuildkitHost, "buildkitd address")
	fs.StringVar(&c.Registry, "registry", c.Registry, "registry images are pushed to and deployed from")
	fs.StringVar(&c.MirrorDir, "mirror-dir", c.MirrorDir, "where git mirrors are kept (default: <data-dir>/../git)")
	fs.DurationVar(&c.ClaimTTL, "claim-ttl", c.ClaimTTL, "lease of a running build or deploy, renewed while it runs")
}

// BindDeployer binds the deployer's settings.
func (c *Config) BindDeployer(fs *flag.FlagSet) {
	fs.StringVar(&c.StagingEnv, "staging-env", c.StagingEnv, "environment that follows the default branch")
	fs.StringVar(&c.ProxyAddr, "proxy-addr", c.ProxyAddr, "address of the proxy giving each environment's services a stable URL; empty disables it")
	fs.StringVar(&c.ProxyDomain, "proxy-domain", c.ProxyDomain, "services answer at http://<service>.<env>.<domain>:<proxy port>/")
	fs.DurationVar(&c.HealthTimeout, "health-timeout", c.HealthTimeout, "how long a new container may take to pass its health check")
	fs.IntVar(&c.DeployWorkers, "deploy-workers", c.DeployWorkers, "deploys this process runs at once (each to a different environment)")
	fs.DurationVar(&c.LockTTL, "lock-ttl", c.LockTTL, "lease of an environment's deploy lock, renewed while the deploy runs; a dead deployer's lock is taken over after it")
	c.Release.Bind(fs)
	if fs.Lookup("claim-ttl") == nil { // `slipway up` binds it with the builder's settings
		fs.DurationVar(&c.ClaimTTL, "claim-ttl", c.ClaimTTL, "lease of a running build or deploy, renewed while it runs")
	}
}

// Validate reports every unusable setting at once.
func (c *Config) Validate() error {
	var errs []error
	if err := c.Topology.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.ClaimTTL < time.Second {
		errs = append(errs, fmt.Errorf("claim ttl %s: must be at least 1s", c.ClaimTTL))
	}
	if c.LockTTL < time.Second || c.DeployWorkers < 1 {
		errs = append(errs, fmt.Errorf("lock ttl %s, deploy workers %d: want at least 1s and 1", c.LockTTL, c.DeployWorkers))
	}
	if err := c.Limits.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.FallbackSecret != "" && !c.AllowUnknownRepos {
		errs = append(errs, errors.New("fallback secret set without -allow-unknown-repos"))
	}
	return errors.Join(errs...)
}

func (c *Config) mirrorDir() string {
	if c.MirrorDir != "" {
		return c.MirrorDir
	}
	return filepath.Join(filepath.Dir(c.DataDir), "git")
}

// RepoSecrets is a repeatable flag of "owner/name=secret".
type RepoSecrets map[string][][]byte

func (r RepoSecrets) String() string {
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n+"=***")
	}
	return strings.Join(names, ",")
}

// Set adds one "owner/name=secret"; a comma-separated list adds several.
func (r RepoSecrets) Set(v string) error {
	for _, item := range strings.Split(v, ",") {
		repo, secret, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || repo == "" || secret == "" {
			return fmt.Errorf("want owner/name=secret, got %q", redact(item))
		}
		r[repo] = append(r[repo], []byte(secret))
	}
	return nil
}

func redact(item string) string {
	if repo, _, ok := strings.Cut(item, "="); ok {
		return repo + "=***"
	}
	return item
}
