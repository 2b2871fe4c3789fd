package pipeline

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/gitmirror/gittest"
	"github.com/slipway-dev/slipway/gitserver"
)

// TestPushOfHangingRepositoryBlocksNoOther runs the builder's push consumer
// on an embedded JetStream with real git: repository A's clone URL points at
// a host that accepts and never answers; while A's push hangs in its fetch,
// repository B's push (served by gitserver over HTTP) is read and its builds
// requested well before A's fetch gives up.
func TestPushOfHangingRepositoryBlocksNoOther(t *testing.T) {
	var conns atomic.Int32
	hang := mustHangingListener(t, &conns)
	repo := gittest.MustRepo(t)
	repo.WriteFile("slipway.yaml", "version: 1\nservices:\n  - name: web\n    context: .\n    port: 8080\n")
	sha := repo.Commit("b")
	root := t.TempDir()
	repo.Git("clone", "--quiet", "--bare", repo.Dir(), filepath.Join(root, "acme", "b.git"))
	git, err := gitserver.Start(root, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = git.Close() })

	cfg := DefaultConfig()
	cfg.MirrorDir, cfg.GitTimeout = t.TempDir(), 20*time.Second
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, requested := pushConsumer(t, ctx, cancel, &cfg, cfg.GitTimeout+10*time.Second)

	pub := natsjs.NewPublisher(c.JS, "/test")
	push := func(name, url string) {
		r := events.Repo{Forge: "github", FullName: name, CloneURL: url, DefaultBranch: "main"}
		if _, err := pub.Publish(ctx, &events.PushReceived{Repo: r, Ref: "refs/heads/main", Branch: "main", After: sha}); err != nil {
			t.Fatal(err)
		}
	}
	push("acme/a", "http://"+hang+"/a.git")
	deadline := time.Now().Add(10 * time.Second)
	for conns.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("A's fetch never reached the hanging host")
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	push("acme/b", git.URL("acme/b"))
	msg, err := requested.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("no build of B requested %s after its push, while A's fetch hangs: %v", time.Since(start).Round(time.Millisecond), err)
	}
	id := msg.Header.Get(natsjs.HeaderID)
	if !strings.HasPrefix(id, "build."+events.KeyPart("acme/b")+"."+sha+".web") {
		t.Errorf("first build requested is %s, want B's web", id)
	}
	t.Logf("B's build requested %s after its push, A's fetch hanging (timeout %s)", time.Since(start).Round(time.Millisecond), cfg.GitTimeout)
}

// mustHangingListener listens on 127.0.0.1, accepts connections, counts
// them and never answers, until the test ends.
func mustHangingListener(tb testing.TB, conns *atomic.Int32) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	tb.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		var open []net.Conn
		defer func() {
			for _, c := range open {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			open = append(open, c)
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	return ln.Addr().String()
}

// pushConsumer runs the builder's push consumer of cfg on an embedded
// JetStream until the test ends, and subscribes to the build requests it
// publishes. cancel is ctx's; the consumer must stop within stopWithin of it.
func pushConsumer(t *testing.T, ctx context.Context, cancel context.CancelFunc, cfg *Config, stopWithin time.Duration) (*Conn, *nats.Subscription) {
	t.Helper()
	srv := natsjs.MustServer(t)
	c, err := Dial(ctx, srv.ClientURL(), "builder-test", cfg.Topology)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.NC.Close)
	h, closeBuilder, err := BuildHandler(ctx, cfg, c)
	if err != nil {
		t.Fatal(err)
	}
	requested, err := c.NC.SubscribeSync(events.SubjectBuildRequested)
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- c.runner(ctx, cfg).Run(ctx, route(t, ConsumerPush, handlers{cfg: cfg, build: h})) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-ran:
			if err != nil {
				t.Errorf("the push consumer: %v", err)
			}
		case <-time.After(stopWithin):
			t.Errorf("the push consumer did not stop")
		}
		closeBuilder()
	})
	return c, requested
}
