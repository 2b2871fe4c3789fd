package sshhost

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
)

var (
	_ deploy.Target = (*Target)(nil)
	_ target.Target = (*Target)(nil)
)

// Options configures a Target.
type Options struct {
	// Hosts are the hosts' URLs, ssh://user@host[:port][/docker.sock], in
	// rollout order.
	Hosts []string
	// Auth is the key and the known_hosts file every host is reached with.
	Auth Auth
	// Batch is how many hosts a rollout changes at once; 0 is 1.
	Batch int
	// Registry and PullRegistry: an image of Registry ("localhost:5000")
	// is pulled by the hosts from PullRegistry, the address they reach the
	// same registry at. Empty PullRegistry pulls images as they are named.
	Registry, PullRegistry string
	// ProxyImage is the image of Slipway's host proxy (`slipway
	// host-proxy`, docker.ProxyBinary in it), named as in Registry: every
	// host a rollout changes runs it, listening on ProxyAddr (":80" when
	// empty). Empty runs no proxy.
	ProxyImage, ProxyAddr string
	// Docker configures each host's Docker target (health timeouts,
	// limits); its Host and Dial are the Target's.
	Docker docker.Options
}

// Target runs an environment on several Docker hosts reached over SSH, the
// same release on each.
type Target struct {
	opts  Options
	hosts []*host

	beforeBatch func(batch int) // a test's hook, called before each batch
}

// host is one Docker host: its SSH connection and the Docker target that
// uses it.
type host struct {
	node   string // the host's name, without the SSH port
	conn   *Conn
	docker *docker.Target
}

// name returns the host as errors and logs name it: host:port of SSH.
func (h *host) name() string { return h.conn.Address().Host }

// New returns a Target for opts. It does not connect.
func New(opts Options) (*Target, error) {
	if len(opts.Hosts) == 0 {
		return nil, errors.New("a docker ssh target needs at least one host")
	}
	if opts.Auth.Key == "" || opts.Auth.KnownHosts == "" {
		return nil, errors.New("a docker ssh target needs a key file and a known_hosts file")
	}
	if opts.Batch < 0 {
		return nil, fmt.Errorf("batch %d: must not be negative", opts.Batch)
	}
	if opts.Batch == 0 {
		opts.Batch = 1
	}
	if opts.ProxyAddr == "" {
		opts.ProxyAddr = ":80"
	}
	t := &Target{opts: opts}
	seen := map[string]bool{}
	for _, raw := range opts.Hosts {
		addr, err := ParseAddress(raw)
		if err != nil {
			return nil, err
		}
		node, _, _ := net.SplitHostPort(addr.Host)
		if seen[node] {
			return nil, fmt.Errorf("host %s is listed twice", node)
		}
		seen[node] = true
		conn := NewConn(addr, opts.Auth)
		dopts := opts.Docker
		dopts.Dial, dopts.Node = nil, node
		dt, err := docker.NewDialled(addr.Socket, conn.DialContext, dopts)
		if err != nil {
			return nil, fmt.Errorf("host %s: %w", addr.Host, err)
		}
		t.hosts = append(t.hosts, &host{node: node, conn: conn, docker: dt})
	}
	return t, nil
}

// Close closes every host's connection.
func (t *Target) Close() error {
	var errs []error
	for _, h := range t.hosts {
		errs = append(errs, h.docker.Close(), h.conn.Close())
	}
	return errors.Join(errs...)
}

// Dials returns how many SSH connections the Target opened, all hosts
// together.
func (t *Target) Dials() int {
	n := 0
	for _, h := range t.hosts {
		n += h.conn.Dials()
	}
	return n
}

// pullDeployment returns d with its images named as the hosts pull them.
func (t *Target) pullDeployment(d deploy.Deployment) deploy.Deployment {
	if t.opts.PullRegistry == "" || t.opts.Registry == "" {
		return d
	}
	out := d
	out.Images = make([]events.Image, len(d.Images))
	for i, img := range d.Images {
		out.Images[i] = t.pullImage(img)
	}
	return out
}

// pullImage returns img named as the hosts pull it.
func (t *Target) pullImage(img events.Image) events.Image {
	if t.opts.PullRegistry == "" || t.opts.Registry == "" {
		return img
	}
	if rest, ok := strings.CutPrefix(img.Ref, t.opts.Registry+"/"); ok {
		img.Ref = t.opts.PullRegistry + "/" + rest
	}
	return img
}

// eachHost runs fn on every host of hs at once and returns their errors,
// each naming its host.
func eachHost(ctx context.Context, hs []*host, fn func(context.Context, *host) error) []error {
	errs := make([]error, len(hs))
	var g errgroup.Group
	for i, h := range hs {
		g.Go(func() error {
			if err := fn(ctx, h); err != nil {
				errs[i] = fmt.Errorf("host %s: %w", h.name(), err)
			}
			return nil
		})
	}
	_ = g.Wait()
	return errs
}

// joinPolicy joins the errors of several hosts, keeping the policy that
// lets the deploy succeed later: retryable when any host's failure may pass
// (a host unreachable), permanent when every one is.
func joinPolicy(errs []error) error {
	err := errors.Join(errs...)
	if err == nil {
		return nil
	}
	for _, e := range errs {
		if e != nil && !events.IsPermanent(e) {
			return events.Retryable(errors.New(err.Error()), retryAfter)
		}
	}
	return events.Permanent(err)
}

// RunTask runs task on the first host, the one a rollout starts with: a
// task runs once per environment and commit, not once per host.
func (t *Target) RunTask(ctx context.Context, d deploy.Deployment, img events.Image, task events.Task) (string, int, error) {
	d = t.pullDeployment(d)
	img = t.pullImage(img)
	h := t.hosts[0]
	out, code, err := h.docker.RunTask(ctx, d, img, task)
	if err != nil {
		err = fmt.Errorf("host %s: %w", h.name(), err)
	}
	return out, code, err
}
