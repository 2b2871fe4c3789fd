package faulttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/internal/daemonlock"
	"github.com/slipway-dev/slipway/natsstore"
)

// Secret is the webhook secret of the sample repository.
const Secret = "faulttest-secret"

// Options configures a Slipway of processes.
type Options struct {
	Builders, Deployers int
	// NATS are the nodes to use; nil starts one.
	NATS []*NATS
	// Topology is passed to every component (-replicas, -ack-wait, ...).
	Topology natsjs.Topology
	ClaimTTL time.Duration
	LockTTL  time.Duration
	Health   time.Duration
	// RestartsDaemons makes the test wait until no other test uses
	// dockerd, buildkitd or the registry, since it restarts one of them.
	RestartsDaemons bool
}

// DefaultOptions are short timings for tests: one builder, one deployer.
func DefaultOptions() Options {
	t := pipeline.Topology()
	t.AckWait, t.DuplicateWindow = 2*time.Second, 2*time.Second
	return Options{Builders: 1, Deployers: 1, Topology: t, ClaimTTL: 3 * time.Second, LockTTL: 3 * time.Second, Health: 20 * time.Second}
}

// Slipway is ingest, builders and deployers as processes on one NATS, and
// the sample monorepo on its own git host.
type Slipway struct {
	tb        testing.TB
	opts      Options
	bins      Binaries
	URL       string
	Env       string
	NATS      []*NATS
	Ingest    *Proc
	Builders  []*Proc
	Deployers []*Proc
	JS        jetstream.JetStream
	claims    *natsstore.Claims // read only: Inspect
	Sample    *sample.Sample
	Registry  string
	Buildkit  string

	ingestURL string
	proxies   []string
	// secretsKey is the one key file of every deployer (-secrets-key).
	secretsKey string

	mu    sync.Mutex
	acked []string // commits of pushes ingest acknowledged
}

// Start checks the components, starts NATS (unless given), provisions it and
// starts the processes. Everything stops, and the environment's containers
// are removed, when the test ends.
func Start(tb testing.TB, opts Options) *Slipway {
	tb.Helper()
	if opts.RestartsDaemons {
		daemonlock.Exclusive(tb)
		tb.Cleanup(func() { RestoreDaemons(tb) })
	} else {
		daemonlock.Shared(tb)
	}
	s := &Slipway{tb: tb, opts: opts, bins: MustBinaries(tb), Env: "ft-" + randomHex(4),
		Registry: envOr("SLIPWAY_REGISTRY", "localhost:5000"), Buildkit: envOr("BUILDKIT_HOST", "unix:///run/buildkit/buildkitd.sock")}
	RequireDaemons(tb)
	s.NATS = opts.NATS
	if s.NATS == nil {
		s.NATS = []*NATS{StartNATS(tb, NATSOptions{})}
	}
	s.URL = URLs(s.NATS)
	nc, err := natsjs.Connect(s.URL, tb.Name())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	if s.JS, err = jetstream.New(nc); err != nil {
		tb.Fatal(err)
	}
	s.provision()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kv, err := s.JS.KeyValue(ctx, natsjs.BucketClaims)
	if err != nil {
		tb.Fatal(err)
	}
	s.claims = natsstore.NewClaims(kv, "faulttest")
	if s.Sample, err = sample.New(ctx, tb.TempDir(), Secret); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Sample.Close() })
	tb.Cleanup(s.removeEnv)
	tb.Cleanup(s.logContainersIfFailed)
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(tb))
	s.ingestURL = "http://" + addr
	s.Ingest = StartProc(tb, "ingest", s.bins.Ingest, append(s.common(),
		"-http-addr", addr, "-repo-secret", sample.RepoName+"="+Secret)...)
	for range opts.Builders {
		s.AddBuilder()
	}
	for range opts.Deployers {
		s.AddDeployer()
	}
	s.waitHTTP(s.ingestURL + "/healthz")
	return s
}

// provision creates the stream, consumers and buckets before any component
// starts, retrying while a new cluster elects its leaders.
func (s *Slipway) provision() {
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = natsjs.Provision(ctx, s.JS, s.opts.Topology)
		cancel()
		if err == nil {
			return
		}
	}
	s.tb.Fatalf("provision: %v", err)
}

// common are the flags every component takes.
func (s *Slipway) common() []string {
	t := s.opts.Topology
	return []string{"-nats-url", s.URL, "-replicas", strconv.Itoa(t.Replicas),
		"-duplicate-window", t.DuplicateWindow.String(), "-ack-wait", t.AckWait.String(),
		"-max-deliver", strconv.Itoa(t.MaxDeliver), "-log-format", "json", "-log-level", "info"}
}

// AddBuilder starts one more builder process, with a git mirror of its own
// and the extra flags given.
func (s *Slipway) AddBuilder(extra ...string) *Proc {
	p := StartProc(s.tb, fmt.Sprintf("builder%d", len(s.Builders)+1), s.bins.Builder, append(append(s.common(),
		"-buildkit-host", s.Buildkit, "-registry", s.Registry, "-mirror-dir", s.tb.TempDir(),
		"-claim-ttl", s.opts.ClaimTTL.String()), extra...)...)
	s.Builders = append(s.Builders, p)
	return p
}

// AddDeployer starts one more deployer process, with a proxy of its own.
func (s *Slipway) AddDeployer() *Proc {
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(s.tb))
	if s.secretsKey == "" {
		s.secretsKey = filepath.Join(s.tb.TempDir(), "age.key")
	}
	p := StartProc(s.tb, fmt.Sprintf("deployer%d", len(s.Deployers)+1), s.bins.Deployer, append(s.common(),
		"-secrets-key", s.secretsKey,
		"-staging-env", s.Env, "-proxy-addr", addr, "-health-timeout", s.opts.Health.String(),
		"-lock-ttl", s.opts.LockTTL.String(), "-claim-ttl", s.opts.ClaimTTL.String())...)
	s.Deployers = append(s.Deployers, p)
	s.mu.Lock()
	s.proxies = append(s.proxies, addr)
	s.mu.Unlock()
	return p
}

func (s *Slipway) waitHTTP(url string) {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return
		}
	}
	s.tb.Fatalf("%s not answering after 30s", url)
}

// Commit commits the sample's working tree and returns the push, not yet
// sent.
func (s *Slipway) Commit(msg string) sample.Push {
	s.tb.Helper()
	// Every commit changes every service, so each deploy replaces both
	// (a service a commit leaves alone keeps its container, answering
	// with the commit it was started at).
	for _, svc := range []string{"web", "api"} {
		s.Write("services/"+svc+"/commit.txt", msg+" "+randomHex(4)+"\n")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := s.Sample.Commit(ctx, msg)
	if err != nil {
		s.tb.Fatal(err)
	}
	return p
}

// Write changes a file of the sample's working tree.
func (s *Slipway) Write(path, content string) {
	s.tb.Helper()
	if err := s.Sample.WriteFile(path, content); err != nil {
		s.tb.Fatal(err)
	}
}

// Deliver sends the push's webhook once. ack is true when ingest answered
// 2xx; a push it acknowledged as new is recorded for Check.
func (s *Slipway) Deliver(p sample.Push, delivery string) (code int, duplicate bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	code, body, err := p.Send(ctx, s.ingestURL+"/webhooks/github", Secret, delivery)
	if err != nil || code/100 != 2 {
		return code, false, err
	}
	var answer struct{ Duplicate bool }
	_ = json.Unmarshal(body, &answer)
	s.mu.Lock()
	s.acked = append(s.acked, p.After)
	s.mu.Unlock()
	return code, answer.Duplicate, nil
}

// Push commits and delivers the webhook as a git host does: again, with
// backoff, until it is acknowledged.
func (s *Slipway) Push(msg string) sample.Push {
	s.tb.Helper()
	p := s.Commit(msg)
	s.Redeliver(p)
	return p
}

// Redeliver delivers p's webhook until ingest acknowledges it (two minutes
// at most).
func (s *Slipway) Redeliver(p sample.Push) {
	s.tb.Helper()
	delivery := "d-" + randomHex(6)
	wait := 250 * time.Millisecond
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(wait) {
		if code, _, err := s.Deliver(p, delivery); err == nil && code/100 == 2 {
			return
		}
		wait = min(2*wait, 5*time.Second)
	}
	s.tb.Fatalf("webhook of %s never acknowledged", p.After[:12])
}

// Acked returns the commits of every acknowledged push, in order.
func (s *Slipway) Acked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.acked...)
}

// Serving returns what service answers through a live deployer's proxy.
func (s *Slipway) Serving(service string) (string, error) {
	s.mu.Lock()
	proxies := append([]string(nil), s.proxies...)
	s.mu.Unlock()
	var err error
	for i, addr := range proxies {
		if i < len(s.Deployers) && !s.Deployers[i].Alive() {
			continue
		}
		var got string
		if got, err = get(addr, service+"."+s.Env+".shop.localhost"); err == nil {
			return got, nil
		}
	}
	return "", err
}

// WaitServing waits until both services answer with sha.
func (s *Slipway) WaitServing(sha string, timeout time.Duration) {
	s.tb.Helper()
	deadline := time.Now().Add(timeout)
	for _, svc := range []string{"web", "api"} {
		var got string
		var err error
		for time.Now().Before(deadline) {
			if got, err = s.Serving(svc); err == nil && got == svc+" "+sha {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if got != svc+" "+sha {
			s.tb.Fatalf("%s never served %s within %s (last %q, %v)", svc, sha[:12], timeout, got, err)
		}
	}
}

// WaitIdle waits until every consumer of stream SLIPWAY handled every event.
func (s *Slipway) WaitIdle(timeout time.Duration) {
	s.tb.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if s.idle() {
			return
		}
	}
	s.tb.Fatalf("pipeline still busy after %s", timeout)
}

func (s *Slipway) idle() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, name := range []string{pipeline.ConsumerPush, pipeline.ConsumerBuild, pipeline.ConsumerBuilt, pipeline.ConsumerDeploy} {
		c, err := s.JS.Consumer(ctx, natsjs.StreamName, name)
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		if err != nil || info.NumPending > 0 || info.NumAckPending > 0 {
			return false
		}
	}
	return true
}

func (s *Slipway) removeEnv() {
	t, err := docker.New(docker.DefaultOptions())
	if err != nil {
		return
	}
	defer func() { _ = t.Close() }() // a read-only client
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := t.Remove(ctx, sample.RepoName, s.Env); err != nil {
		s.tb.Logf("remove %s: %v", s.Env, err)
	}
}

// logContainersIfFailed logs, for a failed test, every container of the
// environment as dockerd knows it: name, commit, state, restart policy and
// when it started and stopped, so a failure says what was (not) running.
func (s *Slipway) logContainersIfFailed() {
	if !s.tb.Failed() {
		return
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		s.tb.Logf("containers of %s: %v", s.Env, err)
		return
	}
	defer func() { _ = cli.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", docker.LabelEnv+"="+s.Env))})
	if err != nil {
		s.tb.Logf("containers of %s: %v", s.Env, err)
		return
	}
	s.tb.Logf("containers of %s: %d", s.Env, len(list))
	for _, c := range list {
		info, err := cli.ContainerInspect(ctx, c.ID)
		if err != nil {
			s.tb.Logf("  %s: %v", c.Names[0], err)
			continue
		}
		s.tb.Logf("  %s commit %s: %s (exit %d, restart %q, started %s, finished %s, ports %v)", c.Names[0], short(c.Labels[docker.LabelCommit]),
			info.State.Status, info.State.ExitCode, info.HostConfig.RestartPolicy.Name, info.State.StartedAt, info.State.FinishedAt, c.Ports)
	}
}

func get(proxy, host string) (string, error) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+proxy+"/", nil)
	req.Host = host
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return strings.TrimSpace(string(b)), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Window is the stream's duplicate window.
func (s *Slipway) Window() time.Duration { return s.opts.Topology.DuplicateWindow }
