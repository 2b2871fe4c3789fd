package swarm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/registry"
	"github.com/slipway-dev/slipway/sshhost"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
)

var (
	_ deploy.Target = (*Target)(nil)
	_ target.Target = (*Target)(nil)
)

// retryAfter is how long the messaging edge waits before it redelivers a
// deploy that failed because the manager could not be reached.
const retryAfter = 5 * time.Second

// Options configures a Target.
type Options struct {
	// Manager is a manager node's URL, ssh://user@host[:port][/docker.sock].
	Manager string
	// Auth is the key and the known_hosts file the manager is reached with.
	Auth sshhost.Auth
	// Registry and PullRegistry: an image of Registry ("localhost:5000")
	// is pulled by the nodes from PullRegistry, the address they reach the
	// same registry at. Empty PullRegistry pulls images as they are named.
	Registry, PullRegistry string
	// Docker configures the health gate (HealthTimeout, HealthInterval),
	// the log lines of a failure, the limits of every task, how long a
	// replaced service keeps running after the new one is live
	// (DrainDelay), and the tasks run on the manager; its Host and Dial
	// are the Target's. Its Registry's Credentials for the host the nodes
	// pull from (PullRegistry, or the image's own) go with every service
	// created or updated, as the tasks' pulls do.
	Docker docker.Options
}

// Target runs environments as services of one swarm.
type Target struct {
	opts  Options
	node  string // the manager's host, for errors
	conn  *sshhost.Conn
	cli   *client.Client
	tasks *docker.Target // deployment tasks, on the manager
	probe *http.Client

	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// New returns a Target for opts. It does not connect.
func New(opts Options) (*Target, error) {
	if opts.Manager == "" {
		return nil, errors.New("a swarm target needs a manager (ssh://user@host)")
	}
	if opts.Auth.Key == "" || opts.Auth.KnownHosts == "" {
		return nil, errors.New("a swarm target needs a key file and a known_hosts file")
	}
	addr, err := sshhost.ParseAddress(opts.Manager)
	if err != nil {
		return nil, err
	}
	node, _, _ := net.SplitHostPort(addr.Host)
	conn := sshhost.NewConn(addr, opts.Auth)
	dopts := opts.Docker
	dopts.Dial, dopts.Node = nil, node
	tasks, err := docker.NewDialled(addr.Socket, conn.DialContext, dopts)
	if err != nil {
		return nil, fmt.Errorf("manager %s: %w", addr.Host, err)
	}
	opts.Docker = withDefaults(dopts)
	cli, err := client.NewClientWithOpts(
		client.WithHost("unix://"+addr.Socket), client.WithAPIVersionNegotiation(),
		client.WithDialContext(func(ctx context.Context, _, _ string) (net.Conn, error) {
			return conn.DialContext(ctx, "unix", addr.Socket)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("create docker client: %w", err)
	}
	t := &Target{opts: opts, node: node, conn: conn, cli: cli, tasks: tasks, locks: map[string]*sync.Mutex{}}
	t.probe = &http.Client{Transport: &http.Transport{DialContext: t.Dial, DisableKeepAlives: true, Proxy: nil}}
	return t, nil
}

// withDefaults fills the gate's zero options.
func withDefaults(o docker.Options) docker.Options {
	d := docker.DefaultOptions()
	if o.HealthTimeout == 0 {
		o.HealthTimeout = d.HealthTimeout
	}
	if o.HealthInterval == 0 {
		o.HealthInterval = d.HealthInterval
	}
	if o.LogLines == 0 {
		o.LogLines = d.LogLines
	}
	if o.DrainDelay == 0 {
		o.DrainDelay = d.DrainDelay
	}
	return o
}

// Dial connects to a task's address ("<node address>:<port>") from the
// manager, through its SSH connection: the nodes reach each other, the
// deployer reaches only the manager.
func (t *Target) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	return t.conn.DialContext(ctx, network, addr)
}

// Close closes the connection to the manager.
func (t *Target) Close() error {
	return errors.Join(t.tasks.Close(), t.cli.Close(), t.conn.Close())
}

// Dials returns how many SSH connections the Target opened.
func (t *Target) Dials() int { return t.conn.Dials() }

// lock serialises the deploys and removals of env of repo in this process.
func (t *Target) lock(repo, env string) func() {
	t.mu.Lock()
	key := repo + "\x00" + env
	l, ok := t.locks[key]
	if !ok {
		l = &sync.Mutex{}
		t.locks[key] = l
	}
	t.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// pullImage returns img named as the nodes pull it.
func (t *Target) pullImage(img events.Image) events.Image {
	if t.opts.PullRegistry == "" || t.opts.Registry == "" {
		return img
	}
	if rest, ok := strings.CutPrefix(img.Ref, t.opts.Registry+"/"); ok {
		img.Ref = t.opts.PullRegistry + "/" + rest
	}
	return img
}

// registryAuth is the EncodedRegistryAuth of service spec: the credentials
// the deployer has for the host its nodes pull its image from (pullImage
// named it), "" for none. The manager keeps them with the service and
// gives them to the node of each task, so no node needs a docker login of
// its own. The value holds the secret: it goes in a header only.
func (t *Target) registryAuth(spec swarm.ServiceSpec) (string, error) {
	cs := spec.TaskTemplate.ContainerSpec
	if cs == nil {
		return "", nil
	}
	host, err := registry.Host(cs.Image)
	if err != nil {
		return "", events.Permanent(fmt.Errorf("service %s: %w", spec.Name, err))
	}
	auth, _, err := t.opts.Docker.Registry.Auth(host)
	if err != nil {
		return "", fmt.Errorf("service %s: %w", spec.Name, err)
	}
	return auth, nil
}

// pullDeployment returns d with its images named as the nodes pull them.
func (t *Target) pullDeployment(d deploy.Deployment) deploy.Deployment {
	out := d
	out.Images = make([]events.Image, len(d.Images))
	for i, img := range d.Images {
		out.Images[i] = t.pullImage(img)
	}
	return out
}

// managerError wraps a failed call to the manager: retryable unless the
// context ended (then the context's error) or the call was refused for
// good (already permanent).
func (t *Target) managerError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if events.IsPermanent(err) {
		return err
	}
	return events.Retryable(fmt.Errorf("%s on swarm manager %s: %w", op, t.node, err), retryAfter)
}

// RunTask runs task on the manager, as a container of its daemon: once per
// environment and commit.
func (t *Target) RunTask(ctx context.Context, d deploy.Deployment, img events.Image, task events.Task) (string, int, error) {
	out, code, err := t.tasks.RunTask(ctx, t.pullDeployment(d), t.pullImage(img), task)
	if err != nil {
		err = fmt.Errorf("swarm manager %s: %w", t.node, err)
	}
	return out, code, err
}
