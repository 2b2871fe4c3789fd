package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/docker/docker/client"
)

// NewDialled returns a Target talking to the daemon whose unix socket is
// socket on the far end of dial (an SSH connection to a remote host:
// sshhost.Conn.DialContext). opts.Dial, when nil, becomes dial too, so
// health probes reach the containers' published ports where they are. It
// does not contact the daemon.
func NewDialled(socket string, dial func(ctx context.Context, network, addr string) (net.Conn, error), opts Options) (*Target, error) {
	if dial == nil || !strings.HasPrefix(socket, "/") {
		return nil, errors.New("a dialled daemon needs a dialler and an absolute socket path")
	}
	if opts.Dial == nil {
		opts.Dial = dial
	}
	opts = opts.withDefaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("validate docker options: %w", err)
	}
	cli, err := client.NewClientWithOpts(
		client.WithHost("unix://"+socket), client.WithAPIVersionNegotiation(),
		client.WithDialContext(func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dial(ctx, "unix", socket)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("create docker client: %w", err)
	}
	t := &Target{cli: cli, opts: opts, locks: map[string]*sync.Mutex{}}
	t.probe = newProbeClient(t.Dial)
	return t, nil
}
