package gitmirror

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds one git network operation (a fetch, an ls-remote)
// when New is given no WithTimeout.
const DefaultTimeout = 2 * time.Minute

// lowSpeedTime is how long a transfer over HTTP may go without a byte
// before git gives up by itself. A server preparing a large pack for a
// quiet fetch still sends keep-alive packets every 5 seconds
// (uploadpack.keepAlive), so only a dead or hung server stays silent.
const lowSpeedTime = 30 * time.Second

// sshCommand bounds a connection over SSH the same way: connecting and the
// handshake, and a connection gone silent (4 unanswered probes 15 s apart).
// BatchMode stops ssh from ever asking for a password.
const sshCommand = "ssh -o BatchMode=yes -o ConnectTimeout=30 -o ServerAliveInterval=15 -o ServerAliveCountMax=4"

// ErrTimeout is wrapped by the error of a git network operation that did
// not finish within the Mirror's timeout. Such an error is
// events.Retryable.
var ErrTimeout = errors.New("git network operation timed out")

// Option configures a Mirror.
type Option func(*Mirror)

// WithTimeout bounds every git network operation of the Mirror (each
// fetch and ls-remote) to d; d <= 0 keeps DefaultTimeout. A fetch of a very
// large repository's first pack needs a larger one.
func WithTimeout(d time.Duration) Option {
	return func(m *Mirror) {
		if d > 0 {
			m.timeout = d
		}
	}
}

// WithLockWait sets how long a fetch waits for another fetch of the same
// repository before it gives up with a retryable error.
func WithLockWait(d time.Duration) Option {
	return func(m *Mirror) { m.lockWait = d }
}

// defaultLockWait is how long a fetch waits for another fetch of the same
// repository: enough for a normal fetch to finish, short enough that a
// repository whose remote hangs keeps one worker, not every one its events
// reach.
func defaultLockWait(timeout time.Duration) time.Duration {
	return min(15*time.Second, timeout)
}

// remote runs a git command that talks to a.url, bounded by the
// Mirror's timeout and git's own low-speed limit, in a process group of its
// own so that the transport helper git starts (git-remote-http, ssh) dies
// with it. It returns the standard output; past the timeout the error wraps
// ErrTimeout. When ctx itself ends, the error is ctx's.
//
// The command reaches the remote as a says (its credential in its
// environment only), and a refusal by the host is a permanent error
// wrapping ErrAuth or ErrHostKey.
func (m *Mirror) remote(ctx context.Context, gitDir string, a access, args ...string) ([]byte, error) {
	tctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	args = slices.Concat([]string{
		"-c", "http.lowSpeedLimit=1",
		"-c", "http.lowSpeedTime=" + strconv.Itoa(int(lowSpeedTime.Seconds())),
	}, args)
	cmd := m.remoteCommand(tctx, gitDir, args...)
	cmd.Env = a.environ(cmd.Env)
	out, err := m.runCmd(cmd, a.url, args, a.secrets...)
	switch {
	case err == nil:
		return out, nil
	case ctx.Err() != nil:
		return out, ctx.Err()
	case errors.Is(tctx.Err(), context.DeadlineExceeded):
		return out, fmt.Errorf("git %s: no answer within %s: %w", subcommand(args), m.timeout, ErrTimeout)
	}
	return out, a.classify(err)
}

// remoteCommand prepares a git command that reaches a remote: in a process
// group of its own, killed whole when ctx ends, with the SSH bounds unless
// the operator chose an SSH command.
func (m *Mirror) remoteCommand(ctx context.Context, gitDir string, args ...string) *exec.Cmd {
	cmd := m.command(ctx, gitDir, args...)
	if m.sshCommand != "" {
		cmd.Env = append(slices.Clip(cmd.Env), "GIT_SSH_COMMAND="+m.sshCommand)
	}
	killGroup(cmd)
	return cmd
}

// lockRepo takes the fetch lock of gitDir, waiting at most lockWait for
// another fetch of it, and returns the function that releases it.
func (m *Mirror) lockRepo(ctx context.Context, gitDir string) (func(), error) {
	m.mu.Lock()
	l, ok := m.locks[gitDir]
	if !ok {
		l = make(chan struct{}, 1)
		m.locks[gitDir] = l
	}
	m.mu.Unlock()
	t := time.NewTimer(m.lockWait)
	defer t.Stop()
	select {
	case l <- struct{}{}:
		return func() { <-l }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, fmt.Errorf("another fetch of this repository has run for more than %s", m.lockWait)
	}
}

// sshConfigured reports whether the operator chose how git runs ssh: then
// the Mirror leaves it alone, and only its timeout bounds an SSH fetch.
func sshConfigured(gitPath string, env []string) bool {
	for _, kv := range env {
		if name, _, _ := strings.Cut(kv, "="); name == "GIT_SSH_COMMAND" || name == "GIT_SSH" {
			return true
		}
	}
	cmd := exec.Command(gitPath, "config", "--get", "core.sshCommand")
	cmd.Env = env
	cmd.Dir = "/"
	out, err := cmd.Output()
	return err == nil && len(out) > 0
}
