package pipeline

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/gitmirror"
	"github.com/slipway-dev/slipway/metrics"
	"github.com/slipway-dev/slipway/proxy"
	"github.com/slipway-dev/slipway/workflows/hosts"
)

// Config is the configuration of every component; each binary binds the
// parts it uses.
type Config struct {
	// NATS
	NATSURL    string
	DataDir    string
	NATSHost   string
	NATSPort   int
	SyncAlways bool
	Topology   natsjs.Topology
	// NATSAuth authenticates to an external server (-nats-url).
	NATSAuth NATSAuth
	// WorkerID is a stable name of this worker, unique among live ones:
	// its restart takes over its own interrupted steps at once (-worker-id).
	WorkerID string
	// Provision creates or updates the stream, consumers and buckets at
	// start; a component whose credentials may not runs without it.
	Provision bool

	// ingest
	HTTPAddr string
	// MetricsAddr is where /metrics (and later the API) is served; empty:
	// nowhere. Metrics, when set, are the process's collectors.
	MetricsAddr       string
	Metrics           *metrics.Metrics
	RepoSecrets       RepoSecrets
	RepoSecretsFile   string
	AllowUnknownRepos bool
	FallbackSecret    string
	Webhooks          WebhookConfig
	Receiver          ReceiverLimits

	// builder
	BuildkitHost string
	// Repos are the repositories the builder builds; empty: those of
	// RepoSecrets unless AllowUnknownRepos, else any.
	Repos    []string
	Registry string
	// RegistryAuth holds the registry's pull address, credentials and CA
	// (registry.go).
	RegistryAuth RegistryAuth
	MirrorDir    string
	ClaimTTL     time.Duration
	// BaseImageAllow lists the images builds may pull; empty allows any.
	BaseImageAllow Patterns
	// GitTimeout bounds each git network operation (git.go).
	GitTimeout time.Duration
	// GitCredentialsFile holds the tokens and deploy keys of private
	// repositories (gitmirror.LoadCredentials).
	GitCredentialsFile string
	// PushWorkers is how many pushes a builder handles at once.
	PushWorkers int
	// BuildWorkers is how many services a builder solves at once, all on
	// its one buildkitd.
	BuildWorkers int

	// deployer
	StagingEnv    string
	ProxyAddr     string
	ProxyDomain   string
	HealthTimeout time.Duration
	DeployWorkers int
	LockTTL       time.Duration
	// Limits bound every deployed container (limits.go).
	Limits docker.Limits
	// HostGrants are the host names each repository may declare
	// (-host-grant); without a grant a declared host is refused.
	HostGrants hosts.Grants
	// Release configures environments, releases and previews (release.go).
	Release ReleaseConfig
	// HTTPS configures the proxy's HTTPS listener (https.go).
	HTTPS HTTPSConfig
	// Targets are where environments may run besides the local daemon
	// (targets.go).
	Targets TargetsConfig
	// SecretsKey is the deployer's key file opening secrets
	// (-secrets-key); empty: <data-dir>/secrets/age.key.
	SecretsKey string
	// Notify configures outgoing webhooks (notify.go).
	Notify NotifyConfig

	// API configures the HTTP API and the dashboard (api.go).
	API APIConfig

	LogLevel  string
	LogFormat string

	// flights are the requests in flight of the deployer's proxy, which
	// its Docker targets drain by (inFlight).
	flights *proxy.Flights
}

// DefaultConfig returns the configuration of one machine.
func DefaultConfig() Config {
	return Config{
		DataDir:       defaultDataDir(),
		NATSHost:      "127.0.0.1",
		NATSPort:      4222,
		Provision:     true,
		Topology:      Topology(),
		HTTPAddr:      "127.0.0.1:7700",
		RepoSecrets:   RepoSecrets{},
		HostGrants:    hosts.Grants{},
		Webhooks:      DefaultWebhookConfig(),
		Receiver:      DefaultReceiverLimits(),
		BuildkitHost:  "unix:///run/buildkit/buildkitd.sock",
		Registry:      "localhost:5000",
		RegistryAuth:  RegistryAuth{ConfigFile: DefaultDockerConfig()},
		ClaimTTL:      30 * time.Second,
		GitTimeout:    gitmirror.DefaultTimeout,
		PushWorkers:   8,
		BuildWorkers:  runtime.NumCPU(),
		StagingEnv:    "staging",
		ProxyAddr:     "127.0.0.1:8080",
		ProxyDomain:   "localhost",
		HealthTimeout: 30 * time.Second,
		DeployWorkers: 4,
		LockTTL:       30 * time.Second,
		Limits:        docker.DefaultLimits(),
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
	fs.StringVar(&c.NATSURL, "nats-url", c.NATSURL, "NATS server or cluster `URL`s, comma-separated; empty: slipway up runs an embedded server")
	fs.IntVar(&c.Topology.Replicas, "replicas", c.Topology.Replicas, "JetStream replicas of the stream, consumers and buckets (3 on a cluster)")
	fs.DurationVar(&c.Topology.DuplicateWindow, "duplicate-window", c.Topology.DuplicateWindow, "how long JetStream deduplicates a message id")
	fs.DurationVar(&c.Topology.AckWait, "ack-wait", c.Topology.AckWait, "how long a delivered event may go without an ack or in-progress signal")
	fs.IntVar(&c.Topology.MaxDeliver, "max-deliver", c.Topology.MaxDeliver, "how many times a failing event is delivered")
	fs.StringVar(&c.WorkerID, "worker-id", c.WorkerID, "stable name of this worker, never shared by two live ones (a pod or systemd instance name): "+
		"a restart under it takes over its own interrupted builds and deploys at once instead of waiting for their leases "+
		"(slipway up with its embedded server is named by its data directory)")
	fs.DurationVar(&c.Topology.MaxAge, "stream-max-age", c.Topology.MaxAge, "how long stream SLIPWAY keeps an event (0: no limit; at least 8 days)")
	fs.Int64Var(&c.Topology.MaxBytes, "stream-max-bytes", c.Topology.MaxBytes, "how many bytes stream SLIPWAY keeps, oldest dropped first (0: no limit; at least 64 MiB)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "trace, debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "console or json")
	c.NATSAuth.Bind(fs)
}

// BindEmbedded binds the settings of the embedded NATS server.
func (c *Config) BindEmbedded(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory of the embedded NATS server's JetStream store")
	fs.StringVar(&c.NATSHost, "nats-host", c.NATSHost, "address the embedded NATS server listens on; clients authenticate with the keys in <data-dir>/auth")
	fs.IntVar(&c.NATSPort, "nats-port", c.NATSPort, "port of the embedded NATS server; -1 picks a free one")
	fs.BoolVar(&c.SyncAlways, "sync-always", c.SyncAlways, "fsync every JetStream write before acknowledging it (slower, survives power loss)")
}

// BindIngest binds the webhook receiver's settings.
func (c *Config) BindIngest(fs *flag.FlagSet) {
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "address the webhook receiver listens on")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "address /metrics is served on (empty: not served)")
	fs.StringVar(&c.RepoSecretsFile, "repo-secrets-file", c.RepoSecretsFile, "file of owner/name=secret lines, readable by its owner only (chmod 600): the repositories and their webhook secrets")
	fs.Var(&c.RepoSecrets, "repo-secret", "owner/name=secret: a repository and its webhook secret (repeat; several per repository for rotation); prefer -repo-secrets-file or SLIPWAY_REPO_SECRET, a flag is visible to local users")
	fs.BoolVar(&c.AllowUnknownRepos, "allow-unknown-repos", c.AllowUnknownRepos, "accept repositories without their own secret, verified with -fallback-secret")
	fs.StringVar(&c.FallbackSecret, "fallback-secret", c.FallbackSecret, "webhook secret of repositories not listed with -repo-secret; prefer SLIPWAY_FALLBACK_SECRET, a flag is visible to local users")
	c.Webhooks.Bind(fs)
	c.Receiver.Bind(fs)
}

// BindBuilder binds the builder's settings.
func (c *Config) BindBuilder(fs *flag.FlagSet) {
	fs.StringVar(&c.BuildkitHost, "buildkit-host", c.BuildkitHost, "buildkitd address")
	fs.Func("repos", "owner/name,…: the only repositories built (default: those of -repo-secret in slipway up; any in cmd/builder)", func(v string) error {
		for _, r := range strings.Split(v, ",") {
			if r = strings.TrimSpace(r); r != "" {
				c.Repos = append(c.Repos, r)
			}
		}
		return nil
	})
	c.bindRegistry(fs)
	fs.StringVar(&c.MirrorDir, "mirror-dir", c.MirrorDir, "where git mirrors are kept (default: <data-dir>/../git)")
	fs.DurationVar(&c.ClaimTTL, "claim-ttl", c.ClaimTTL, "lease of a running build or deploy, renewed while it runs")
	fs.Var(&c.BaseImageAllow, "base-image-allow", "image a build may pull, '*' matching anything, e.g. localhost:5000/mirror/* (repeat or comma-separate; none allows every image)")
	fs.IntVar(&c.PushWorkers, "push-workers", c.PushWorkers, "pushes this process reads the slipway.yaml of at once (each fetch of a repository waits for no other repository)")
	fs.IntVar(&c.BuildWorkers, "build-workers", c.BuildWorkers, "services this process solves at once on its buildkitd (default: the number of cores)")
	c.bindGit(fs)
}

// BindDeployer binds the deployer's settings.
func (c *Config) BindDeployer(fs *flag.FlagSet) {
	fs.StringVar(&c.StagingEnv, "staging-env", c.StagingEnv, "environment that follows the default branch")
	fs.StringVar(&c.ProxyAddr, "proxy-addr", c.ProxyAddr, "address of the proxy giving each environment's services a stable URL; empty disables it")
	fs.StringVar(&c.ProxyDomain, "proxy-domain", c.ProxyDomain, "services answer at http://<service>.<env>.<repository>.<domain>:<proxy port>/")
	c.HTTPS.Bind(fs)
	fs.Var(c.HostGrants, "host-grant", "owner/name=host,*.domain,...: host names a repository may declare in slipway.yaml (hosts:); a leading *. matches one label (repeat)")
	fs.DurationVar(&c.HealthTimeout, "health-timeout", c.HealthTimeout, "how long a new container may take to pass its health check")
	fs.IntVar(&c.DeployWorkers, "deploy-workers", c.DeployWorkers, "deploys this process runs at once (each to a different environment)")
	fs.DurationVar(&c.LockTTL, "lock-ttl", c.LockTTL, "lease of an environment's deploy lock, renewed while the deploy runs; a dead deployer's lock is taken over after it")
	fs.StringVar(&c.SecretsKey, "secrets-key", c.SecretsKey, "age key file opening the secrets of slipway secret set, written 0600 at first start (default <data-dir>/secrets/age.key); every deployer needs the same")
	bindLimits(fs, &c.Limits)
	c.bindRegistry(fs)
	c.bindGit(fs)
	c.Release.Bind(fs)
	c.Targets.Bind(fs)
	c.Notify.Bind(fs)
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
	if err := c.validateHTTP(); err != nil {
		errs = append(errs, err)
	}
	if c.ClaimTTL < time.Second {
		errs = append(errs, fmt.Errorf("claim ttl %s: must be at least 1s", c.ClaimTTL))
	}
	if c.GitTimeout < time.Second || c.PushWorkers < 1 {
		errs = append(errs, fmt.Errorf("git timeout %s, push workers %d: want at least 1s and 1", c.GitTimeout, c.PushWorkers))
	}
	if err := checkWorkerID(c.WorkerID); err != nil {
		errs = append(errs, err)
	}
	if c.BuildWorkers < 1 {
		errs = append(errs, fmt.Errorf("build workers %d: want at least 1", c.BuildWorkers))
	}
	if c.LockTTL < time.Second || c.DeployWorkers < 1 {
		errs = append(errs, fmt.Errorf("lock ttl %s, deploy workers %d: want at least 1s and 1", c.LockTTL, c.DeployWorkers))
	}
	if _, err := c.gitCredentials(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.registryAccess(); err != nil {
		errs = append(errs, err)
	}
	if err := c.NATSAuth.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.validateHTTPS(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Limits.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("container limits: %w", err))
	}
	if err := c.Receiver.Validate(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.Targets.Load(); err != nil {
		errs = append(errs, err)
	}
	if c.FallbackSecret != "" && !c.AllowUnknownRepos {
		errs = append(errs, errors.New("fallback secret set without -allow-unknown-repos"))
	}
	return errors.Join(errs...)
}

// knownRepos are the repositories a builder builds: Repos, or else the
// repositories with a webhook secret unless unknown ones are allowed; nil
// means any.
func (c *Config) knownRepos() []string {
	if len(c.Repos) > 0 || c.AllowUnknownRepos {
		return c.Repos
	}
	var out []string
	for r := range c.RepoSecrets {
		out = append(out, r)
	}
	return out
}

func (c *Config) mirrorDir() string {
	if c.MirrorDir != "" {
		return c.MirrorDir
	}
	return filepath.Join(filepath.Dir(c.DataDir), "git")
}

// Patterns is a repeatable flag of patterns; a comma-separated value adds
// several (as SLIPWAY_BASE_IMAGE_ALLOW does).
type Patterns []string

func (p *Patterns) String() string { return strings.Join(*p, ",") }

// Set adds the patterns of one comma-separated value.
func (p *Patterns) Set(v string) error {
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*p = append(*p, item)
		}
	}
	return nil
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
