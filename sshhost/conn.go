package sshhost

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/slipway-dev/slipway/events"
)

// retryAfter is how long the messaging edge waits before it redelivers a
// deploy that failed on a host it could not reach.
const retryAfter = 5 * time.Second

// Auth is how Slipway logs in to its hosts: a private key file and a
// known_hosts file that pins every host's key.
type Auth struct {
	// Key is the path of an unencrypted private key (OpenSSH or PEM),
	// readable by its owner only (as ssh itself demands).
	Key string
	// KnownHosts is the path of a known_hosts file. A host whose key it
	// does not hold, or holds another key for, is refused.
	KnownHosts string
	// Timeout bounds the TCP connect and the SSH handshake (10s when 0).
	Timeout time.Duration
	// KeepAlive is the interval of the keep-alive requests that find a dead
	// connection (15s when 0).
	KeepAlive time.Duration
}

// config returns the client configuration of auth for user.
func (a Auth) config(user string) (*ssh.ClientConfig, error) {
	info, err := os.Stat(a.Key)
	if err != nil {
		return nil, events.Permanent(fmt.Errorf("read ssh key: %w", err))
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, events.Permanent(fmt.Errorf("ssh key %s is open to other users (mode %04o); chmod 600 it", a.Key, info.Mode().Perm()))
	}
	pem, err := os.ReadFile(a.Key)
	if err != nil {
		return nil, events.Permanent(fmt.Errorf("read ssh key: %w", err))
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		// The parser's message names no part of the key.
		return nil, events.Permanent(fmt.Errorf("parse ssh key %s: %w", a.Key, err))
	}
	hostKeys, err := knownhosts.New(a.KnownHosts)
	if err != nil {
		return nil, events.Permanent(fmt.Errorf("read known_hosts: %w", err))
	}
	return &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hostKeys,
		Timeout:         a.timeout(),
	}, nil
}

func (a Auth) timeout() time.Duration {
	if a.Timeout > 0 {
		return a.Timeout
	}
	return 10 * time.Second
}

func (a Auth) keepAlive() time.Duration {
	if a.KeepAlive > 0 {
		return a.KeepAlive
	}
	return 15 * time.Second
}

// Conn is one host's SSH connection, shared by every dial to it: opened on
// the first dial, opened again on the next dial after it broke.
type Conn struct {
	addr Address
	auth Auth

	mu     sync.Mutex
	client *ssh.Client
	dials  int // SSH connections opened, for tests and figures
}

// NewConn returns the connection to addr. It does not connect.
func NewConn(addr Address, auth Auth) *Conn {
	return &Conn{addr: addr, auth: auth}
}

// Address returns the host the connection reaches.
func (c *Conn) Address() Address { return c.addr }

// DialDocker opens a stream to the host's Docker socket. It has the shape
// of a DialContext so that a Docker client can use it; network and addr are
// ignored.
func (c *Conn) DialDocker(ctx context.Context, _, _ string) (net.Conn, error) {
	return c.DialContext(ctx, "unix", c.addr.Socket)
}

// DialContext opens a stream to addr on the host: "tcp" to a host:port as
// the host sees it (its 127.0.0.1 is its own), "unix" to a socket path. A
// connection that broke is replaced once.
func (c *Conn) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	for attempt := 0; ; attempt++ {
		cl, err := c.get(ctx)
		if err != nil {
			return nil, err
		}
		nc, err := cl.DialContext(ctx, network, addr)
		if err == nil {
			return nc, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var open *ssh.OpenChannelError
		if errors.As(err, &open) || attempt > 0 {
			// The host answered: the socket or port is not there.
			return nil, fmt.Errorf("dial %s %s on %s: %w", network, addr, c.addr.Host, err)
		}
		c.drop(cl) // the connection broke; open a new one
	}
}

// Dials returns how many SSH connections the Conn opened.
func (c *Conn) Dials() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dials
}

// Close closes the connection; a later dial opens a new one.
func (c *Conn) Close() error {
	c.mu.Lock()
	cl := c.client
	c.client = nil
	c.mu.Unlock()
	if cl == nil {
		return nil
	}
	return cl.Close()
}

// get returns the open client, connecting when there is none.
func (c *Conn) get(ctx context.Context) (*ssh.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil {
		return c.client, nil
	}
	cl, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	c.client = cl
	c.dials++
	go c.watch(cl)
	return cl, nil
}

// drop forgets cl if it is still the open client, and closes it.
func (c *Conn) drop(cl *ssh.Client) {
	c.mu.Lock()
	if c.client == cl {
		c.client = nil
	}
	c.mu.Unlock()
	_ = cl.Close()
}

// watch drops cl when it ends or stops answering keep-alives.
func (c *Conn) watch(cl *ssh.Client) {
	done := make(chan struct{})
	go func() { _ = cl.Wait(); close(done) }()
	tick := time.NewTicker(c.auth.keepAlive())
	defer tick.Stop()
	for {
		select {
		case <-done:
			c.drop(cl)
			return
		case <-tick.C:
			if !c.alive(cl) {
				c.drop(cl)
				return
			}
		}
	}
}

// alive sends one keep-alive request and reports whether it was answered
// within the timeout.
func (c *Conn) alive(cl *ssh.Client) bool {
	answered := make(chan error, 1)
	go func() {
		_, _, err := cl.SendRequest("keepalive@openssh.com", true, nil)
		answered <- err
	}()
	select {
	case err := <-answered:
		return err == nil
	case <-time.After(c.auth.timeout()):
		return false
	}
}

// connect dials the host and runs the SSH handshake, both bounded by ctx
// and the timeout.
func (c *Conn) connect(ctx context.Context) (*ssh.Client, error) {
	cfg, err := c.auth.config(c.addr.User)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.auth.timeout())
	defer cancel()
	d := net.Dialer{}
	nc, err := d.DialContext(ctx, "tcp", c.addr.Host)
	if err != nil {
		return nil, c.unreachable(err)
	}
	deadline, _ := ctx.Deadline()
	_ = nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	defer stop()
	conn, chans, reqs, err := ssh.NewClientConn(nc, c.addr.Host, cfg)
	if err != nil {
		nc.Close()
		return nil, c.handshakeError(err)
	}
	_ = nc.SetDeadline(time.Time{})
	return ssh.NewClient(conn, chans, reqs), nil
}

// unreachable wraps a failed TCP connect: retryable, the host may be back.
func (c *Conn) unreachable(err error) error {
	return events.Retryable(fmt.Errorf("connect to host %s: %w", c.addr.Host, err), retryAfter)
}

// handshakeError wraps a failed handshake: a key the known_hosts file does
// not pin, or a login the host refuses, is permanent; anything else (a
// connection cut) retryable.
func (c *Conn) handshakeError(err error) error {
	var keyErr *knownhosts.KeyError
	var revoked *knownhosts.RevokedError
	switch {
	case errors.As(err, &keyErr) && len(keyErr.Want) == 0:
		return events.Permanent(fmt.Errorf("host %s: its key is not in known_hosts %s; refusing to connect", c.addr.Host, c.auth.KnownHosts))
	case errors.As(err, &keyErr):
		return events.Permanent(fmt.Errorf("host %s: its key does not match known_hosts %s (line %d): it changed, or this is not the host; refusing to connect", c.addr.Host, c.auth.KnownHosts, keyErr.Want[0].Line))
	case errors.As(err, &revoked):
		return events.Permanent(fmt.Errorf("host %s: its key is revoked in known_hosts %s; refusing to connect", c.addr.Host, c.auth.KnownHosts))
	case isAuthError(err):
		return events.Permanent(fmt.Errorf("host %s: login as %s refused: %w", c.addr.Host, c.addr.User, err))
	}
	return events.Retryable(fmt.Errorf("ssh handshake with host %s: %w", c.addr.Host, err), retryAfter)
}

// isAuthError reports whether the host refused every key offered; the
// package has no error type for it.
func isAuthError(err error) bool {
	return strings.Contains(err.Error(), "ssh: unable to authenticate")
}
