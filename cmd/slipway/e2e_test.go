package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/internal/testport"
)

// TestEndToEnd carries commits of the sample monorepo from a real git
// repository, through a signed GitHub webhook, embedded NATS, a real
// buildkitd and registry, to containers on the real Docker Engine.
func TestEndToEnd(t *testing.T) {
	requireComponents(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	e := startSlipway(t, ctx)
	s, err := sample.New(ctx, t.TempDir(), "e2e-secret")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	// First commit: built and serving on staging.
	p1 := e.push(t, ctx, s, "Add web and api", "")
	e.waitServing(t, ctx, p1.After)

	// Second commit replaces it.
	if err := s.WriteFile("services/web/index.txt", "two\n"); err != nil {
		t.Fatal(err)
	}
	p2 := e.push(t, ctx, s, "Change web", "")
	e.waitServing(t, ctx, p2.After)
	e.waitIdle(t, ctx)
	e.requireContainers(t, ctx, p2.After)

	// The same webhook five more times: inside the duplicate window JetStream
	// drops it; past the window the same delivery id is refused by ingest's
	// record of deliveries, and a new delivery of the same push (another
	// hook) is stored and the claims drop it. One build per service, one
	// deploy.
	delivery := "redelivered-" + p2.After[:8]
	stored, deduped := 1, 0
	for i := 0; i < 5; i++ {
		if i == 3 {
			time.Sleep(e.window + 500*time.Millisecond)
			delivery += "-another-hook"
		}
		code, body, err := p2.Send(ctx, e.up.IngestURL()+"/webhooks/github", s.Secret, delivery)
		if err != nil || code/100 != 2 {
			t.Fatalf("redelivery %d: %d %s %v", i, code, body, err)
		}
		var answer struct{ Duplicate bool }
		if err := json.Unmarshal(body, &answer); err != nil {
			t.Fatalf("redelivery %d: %s: %v", i, body, err)
		}
		if answer.Duplicate {
			deduped++
		} else {
			stored++
		}
	}
	if deduped == 0 || stored < 2 {
		t.Fatalf("redeliveries: %d deduplicated by JetStream, %d stored past the window; want both layers exercised", deduped, stored)
	}
	e.waitIdle(t, ctx)
	e.requireOnce(t, ctx, p2.After, stored)
	e.requireContainers(t, ctx, p2.After)

	// A commit whose api fails its health check leaves the second commit
	// serving, recorded as a failed deploy.
	if err := s.WriteFile("services/api/start.sh", "rm /www/healthz\nexec httpd -f -p 9090 -h /www\n"); err != nil {
		t.Fatal(err)
	}
	p3 := e.push(t, ctx, s, "Break api health", "")
	e.waitEvent(t, ctx, events.EnvSubject(events.SubjectDeployFailed, sample.RepoName, e.env), p3.After)
	e.waitIdle(t, ctx)
	e.requireServing(t, ctx, p2.After)
	e.requireContainers(t, ctx, p2.After)
	e.requireStatusAndHistory(t, ctx, p1.After, p2.After, p3.After)
}

// requireStatusAndHistory checks what `slipway status` and `slipway
// history` print after the three commits.
func (e *env) requireStatusAndHistory(t *testing.T, ctx context.Context, sha1, sha2, sha3 string) {
	t.Helper()
	var out strings.Builder
	if err := status(ctx, e.up.Conn(), &e.up.Config, &out); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"web", "api"} {
		want := regexp.MustCompile(e.env + `\s+` + sha2[:12] + `\s+` + svc + `\s+sha256:\S+\s+running\s+healthy\s`)
		if !want.MatchString(out.String()) {
			t.Errorf("status does not show %s healthy on %s:\n%s", svc, sha2[:12], out.String())
		}
	}
	out.Reset()
	if err := history(ctx, e.up.Conn(), sample.RepoName, e.env, 0, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	wants := []string{"succeeded  " + sha1[:12], "succeeded  " + sha2[:12] + "  " + sha1[:12], "failed     " + sha3[:12] + "  " + sha2[:12]}
	if len(lines) != len(wants)+1 {
		t.Fatalf("history has %d lines, want a header and %d deploys:\n%s", len(lines), len(wants), out.String())
	}
	for i, want := range wants {
		if !strings.Contains(lines[i+1], want) {
			t.Errorf("history line %d = %q, want it to contain %q", i+1, lines[i+1], want)
		}
	}
	if !strings.Contains(lines[3], "health") {
		t.Errorf("failed deploy has no reason: %q", lines[3])
	}
}

type env struct {
	up     *pipeline.Up
	env    string
	window time.Duration
}

func startSlipway(t testing.TB, ctx context.Context) *env {
	t.Helper()
	return startSlipwayWith(t, ctx, nil, nil)
}

// startSlipwayWith is startSlipway with configure applied to the
// configuration, and the log copied to logs as JSON too when it is not nil.
func startSlipwayWith(t testing.TB, ctx context.Context, configure func(*pipeline.Config), logs io.Writer) *env {
	t.Helper()
	cfg := pipeline.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.MirrorDir = t.TempDir()
	cfg.NATSPort = -1
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.ProxyAddr = freeAddr(t)
	cfg.StagingEnv = fmt.Sprintf("e2e-%d", time.Now().UnixNano()%1e6)
	cfg.HealthTimeout = 10 * time.Second
	cfg.Topology.DuplicateWindow = 2 * time.Second
	cfg.RepoSecrets = pipeline.RepoSecrets{sample.RepoName: {[]byte("old-secret"), []byte("e2e-secret")}}
	if r := os.Getenv("SLIPWAY_REGISTRY"); r != "" {
		cfg.Registry = r
	}
	if b := os.Getenv("BUILDKIT_HOST"); b != "" {
		cfg.BuildkitHost = b
	}
	if configure != nil {
		configure(&cfg)
	}
	var out io.Writer = zerolog.NewTestWriter(t)
	if logs != nil {
		out = io.MultiWriter(out, logs)
	}
	log := testLogger(out)
	ctx = log.WithContext(ctx)
	up := &pipeline.Up{Config: cfg}
	if err := up.Open(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- up.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && runCtx.Err() == nil {
			t.Errorf("slipway up: %v", err)
		}
		up.Close()
		removeEnv(t, cfg.StagingEnv)
	})
	return &env{up: up, env: cfg.StagingEnv, window: cfg.Topology.DuplicateWindow}
}

func (e *env) push(t testing.TB, ctx context.Context, s *sample.Sample, msg, delivery string) sample.Push {
	t.Helper()
	p, err := s.Commit(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	code, body, err := p.Send(ctx, e.up.IngestURL()+"/webhooks/github", s.Secret, delivery)
	if err != nil {
		t.Fatal(err)
	}
	if code != 202 {
		t.Fatalf("webhook: %d %s", code, body)
	}
	return p
}

// waitServing waits until both services answer with sha through the proxy.
func (e *env) waitServing(t testing.TB, ctx context.Context, sha string) {
	t.Helper()
	requireAnswers(t, ctx, &e.up.Config, e.env, sha, 4*time.Minute)
}

// requireAnswers waits until envName runs sha, then checks that each of
// web and api answers with the commit its live container was started at:
// sha, or an earlier commit for a service sha did not change (kept).
func requireAnswers(t testing.TB, ctx context.Context, cfg *pipeline.Config, envName, sha string, within time.Duration) {
	t.Helper()
	answers, err := waitEnvServing(ctx, cfg, sample.RepoName, envName, sha, []string{"web", "api"}, within)
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"web", "api"} {
		if want := svc + " " + startedAt(t, ctx, envName, svc); answers[svc] != want {
			t.Errorf("%s.%s answers %q, want %q", svc, envName, answers[svc], want)
		}
	}
}

// startedAt returns the commit the live container of svc in envName was
// started at (its slipway.commit label).
func startedAt(t testing.TB, ctx context.Context, envName, svc string) string {
	t.Helper()
	cs, err := dockertest.MustDocker(t).ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("name", "^/"+docker.LiveName(sample.RepoName, envName, svc)+"$"),
	)})
	if err != nil || len(cs) != 1 {
		t.Fatalf("live container of %s in %s: %d found (%v)", svc, envName, len(cs), err)
	}
	return cs[0].Labels[docker.LabelCommit]
}

// requireServing checks, once, that both services answer with sha.
func (e *env) requireServing(t testing.TB, ctx context.Context, sha string) {
	t.Helper()
	requireAnswers(t, ctx, &e.up.Config, e.env, sha, 5*time.Second)
}

// requireContainers checks from Docker labels alone that the environment
// runs exactly one container per service, of sha.
func (e *env) requireContainers(t testing.TB, ctx context.Context, sha string) {
	t.Helper()
	target, err := pipeline.NewTarget(&e.up.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	rel, err := target.Current(ctx, sample.RepoName, e.env)
	if err != nil {
		t.Fatal(err)
	}
	if got := rel.Commit(); got != sha || len(rel.Services) != 2 {
		t.Errorf("environment runs %q with %d services, want %s with 2", got, len(rel.Services), sha)
	}
	all := dockertest.Containers(t, e.env)
	if len(all) != 2 {
		t.Errorf("docker has %d containers labelled slipway.env=%s, want 2: %v", len(all), e.env, all)
	}
}

// requireOnce checks the stream and the claims: one solve per service, one
// commit-built, one deploy of sha, however many pushes were stored.
func (e *env) requireOnce(t testing.TB, ctx context.Context, sha string, stored int) {
	t.Helper()
	js := e.up.Conn().JS
	count := func(subject string, keep func(events.Event) bool) int {
		envs, err := natsjs.Events(ctx, js, subject)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, env := range envs {
			ev, err := env.Decode()
			if err == nil && keep(ev) {
				n++
			}
		}
		return n
	}
	solved := count(events.SubjectBuildSucceeded, func(ev events.Event) bool {
		b := ev.(*events.BuildSucceeded)
		return b.Commit == sha && !b.Cached
	})
	if solved != 2 {
		t.Errorf("%d builds ran for %s, want 2 (one per service)", solved, sha[:12])
	}
	built := count(events.SubjectCommitBuilt, func(ev events.Event) bool { return ev.(*events.CommitBuilt).Commit == sha })
	if built != 1 {
		t.Errorf("%d commit-built events for %s, want 1", built, sha[:12])
	}
	deployed := count(events.EnvSubject(events.SubjectDeploySucceeded, sample.RepoName, e.env), func(ev events.Event) bool {
		return ev.(*events.DeploySucceeded).Commit == sha
	})
	if deployed != 1 {
		t.Errorf("%d deploys of %s, want 1", deployed, sha[:12])
	}
	pushes := count(events.SubjectPushReceived, func(ev events.Event) bool { return ev.(*events.PushReceived).After == sha })
	if pushes != stored {
		t.Errorf("%d push events of %s stored, want %d (ingest answered duplicate to the others)", pushes, sha[:12], stored)
	}
	kv, err := js.KeyValue(ctx, natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"web", "api"} {
		entry, err := kv.Get(ctx, events.BuildKey(sample.RepoName, sha, svc))
		if err != nil {
			t.Fatalf("build claim of %s: %v", svc, err)
		}
		var rec struct{ State string }
		if err := json.Unmarshal(entry.Value(), &rec); err != nil || rec.State != "done" || entry.Revision() == 0 {
			t.Errorf("build claim of %s: %s", svc, entry.Value())
		}
	}
	envs, err := e.up.Conn().Envs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, ok, err := envs.Get(ctx, sample.RepoName, e.env)
	if err != nil || !ok || st.Commit != sha {
		t.Errorf("recorded state of %s: %+v %v %v, want commit %s", e.env, st, ok, err, sha)
	}
}

// waitIdle waits until every consumer has handled every event.
func (e *env) waitIdle(t testing.TB, ctx context.Context) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		if e.idle(ctx) {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatal("pipeline still busy after 3 minutes")
}

func (e *env) idle(ctx context.Context) bool {
	for _, name := range []string{pipeline.ConsumerPush, pipeline.ConsumerBuild, pipeline.ConsumerBuilt, pipeline.ConsumerDeploy} {
		c, err := e.up.Conn().JS.Consumer(ctx, natsjs.StreamName, name)
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		if err != nil || info.NumPending > 0 || info.NumAckPending > 0 || info.NumRedelivered > 0 {
			return false
		}
	}
	return true
}

// waitEvent waits for an event on subject about sha.
func (e *env) waitEvent(t testing.TB, ctx context.Context, subject, sha string) {
	t.Helper()
	deadline := time.Now().Add(4 * time.Minute)
	for time.Now().Before(deadline) {
		envs, err := natsjs.Events(ctx, e.up.Conn().JS, subject)
		if err != nil {
			t.Fatal(err)
		}
		for _, env := range envs {
			if strings.HasSuffix(env.Subject, "@"+sha) {
				return
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("no %s event for %s", subject, sha[:12])
}

// testLogger logs to out at info level, or, when SLIPWAY_TEST_DEBUG is
// set, at debug level with each line timed: where a benchmark's time goes.
func testLogger(out io.Writer) zerolog.Logger {
	if os.Getenv("SLIPWAY_TEST_DEBUG") == "" {
		return zerolog.New(out).Level(zerolog.InfoLevel)
	}
	zerolog.TimeFieldFormat = "15:04:05.000000"
	return zerolog.New(out).Level(zerolog.DebugLevel).With().Timestamp().Logger()
}

// freeAddr returns a loopback address nothing listens on (testport).
func freeAddr(t testing.TB) string {
	t.Helper()
	return testport.Addr(t)
}
