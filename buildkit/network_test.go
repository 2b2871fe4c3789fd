package buildkit_test

import (
	"net"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/slipway-dev/slipway/buildkit/buildkittest"
)

// hostListener is a TCP listener on 127.0.0.1 standing for a port of
// Slipway's control plane (NATS, the webhook receiver, the registry). It
// accepts and closes every connection, counting them: a RUN step that gets
// through has been counted before it can end.
type hostListener struct {
	l net.Listener
	n *atomic.Int32
}

func mustListen(tb testing.TB) hostListener {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	h := hostListener{l: l, n: &atomic.Int32{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			h.n.Add(1)
			c.Close()
		}
	}()
	tb.Cleanup(func() { l.Close(); <-done })
	return h
}

func (h hostListener) port() string { return strconv.Itoa(h.l.Addr().(*net.TCPAddr).Port) }

// accepted returns how many connections reached the listener.
func (h hostListener) accepted() int { return int(h.n.Load()) }

// TestRunStepsCannotReachHost: a RUN step tries to connect to a port this
// machine listens on at 127.0.0.1. It must not get through: the builder asks
// for no network unless the service declares it needs one.
func TestRunStepsCannotReachHost(t *testing.T) {
	e := mustEnv(t)
	l := mustListen(t)
	req := writeContext(t, map[string]string{
		"Dockerfile": "FROM " + e.base + "\n" +
			"RUN if echo hello | timeout 5 nc -w 2 127.0.0.1 " + l.port() + "; then echo reached > /net; else echo unreachable > /net; fi; cat /net\n",
	})
	req.Image = e.registry + "/" + buildkittest.UniqueRepo(t) + ":v1"
	if _, err := e.builder.Build(testContext(t), req); err != nil {
		t.Fatalf("Build: %v", err)
	}
	if n := l.accepted(); n != 0 {
		t.Errorf("a RUN step connected %d times to 127.0.0.1:%s on the build host", n, l.port())
	}
}
