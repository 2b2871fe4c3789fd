package main

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// TestUpgradeOfASingleRepositoryInstallation: an installation of one
// repository left as the versions before repository-scoped environments
// left it — its environment record under the environment's name, its
// deploy results on slipway.deploy.*.<env>, its containers named
// slipway-<env>-<service>, no host claims nor labels — is started by this
// version on the same data. The containers are adopted (same ids, never
// stopped), the record moves, the old URL web.<env>.localhost keeps
// answering beside web.<env>.shop.localhost, the history reads the old
// results, and the next push deploys over the adopted containers.
func TestUpgradeOfASingleRepositoryInstallation(t *testing.T) {
	requireComponents(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	cfg := pipeline.DefaultConfig()
	cfg.DataDir, cfg.MirrorDir = t.TempDir(), t.TempDir()
	cfg.NATSPort, cfg.HTTPAddr, cfg.ProxyAddr = -1, "127.0.0.1:0", freeAddr(t)
	cfg.StagingEnv = "up-" + dockertest.RandomName("")[1:7]
	cfg.HealthTimeout = 10 * time.Second
	cfg.RepoSecrets = pipeline.RepoSecrets{sample.RepoName: {[]byte("e2e-secret")}}
	if r := os.Getenv("SLIPWAY_REGISTRY"); r != "" {
		cfg.Registry = r
	}
	if b := os.Getenv("BUILDKIT_HOST"); b != "" {
		cfg.BuildkitHost = b
	}
	ctx = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel).WithContext(ctx)
	t.Cleanup(func() { removeEnv(t, cfg.StagingEnv) })
	s, err := sample.New(ctx, t.TempDir(), "e2e-secret")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	e, stop := runUp(t, ctx, cfg)
	c1 := e.push(t, ctx, s, "Add web and api", "").After
	e.waitServing(t, ctx, c1)
	e.waitIdle(t, ctx)
	stop()
	before := containerIDs(t, sample.RepoName, cfg.StagingEnv)
	makeLegacy(t, ctx, cfg)

	e, stop = runUp(t, ctx, cfg)
	defer stop()
	e.waitServing(t, ctx, c1) // once the deployer has migrated and its proxy listens
	if got := containerIDs(t, sample.RepoName, cfg.StagingEnv); !slices.Equal(got, before) {
		t.Errorf("containers after the upgrade %v, want the adopted %v", got, before)
	}
	for _, svc := range []string{"web", "api"} {
		name := docker.LiveName(sample.RepoName, cfg.StagingEnv, svc)
		if c, err := dockertest.MustDocker(t).ContainerInspect(ctx, name); err != nil || !slices.Contains(before, c.ID) {
			t.Errorf("container %s after the upgrade: %v", name, err)
		}
	}
	e.requireServing(t, ctx, c1)
	for _, svc := range []string{"web", "api"} {
		if got, err := get(ctx, cfg.ProxyAddr, svc+"."+cfg.StagingEnv+".localhost"); err != nil || got != svc+" "+c1 {
			t.Errorf("the URL from before the upgrade answers %q (%v), want %s", got, err, c1[:12])
		}
	}
	requireRecorded(t, ctx, e, sample.RepoName, c1)
	var out strings.Builder
	if err := history(ctx, e.up.Conn(), sample.RepoName, cfg.StagingEnv, 0, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "succeeded  "+c1[:12]) {
		t.Errorf("history after the upgrade does not show the deploy from before it:\n%s", out.String())
	}
	if r, err := chooseRepo(ctx, e.up.Conn(), ""); err != nil || r != sample.RepoName {
		t.Errorf("chooseRepo() = %q, %v, want the one repository", r, err)
	}

	if err := s.WriteFile("services/web/index.txt", "two\n"); err != nil {
		t.Fatal(err)
	}
	c2 := e.push(t, ctx, s, "Change web", "").After
	e.waitServing(t, ctx, c2)
	e.waitIdle(t, ctx)
	e.requireContainers(t, ctx, c2)
	if got, err := get(ctx, cfg.ProxyAddr, "web."+cfg.StagingEnv+".localhost"); err != nil || got != "web "+c2 {
		t.Errorf("the URL from before the upgrade answers %q (%v) after the next deploy, want %s", got, err, c2[:12])
	}
}

// runUp starts `slipway up` on cfg and returns the function that stops it.
func runUp(t *testing.T, ctx context.Context, cfg pipeline.Config) (*env, func()) {
	t.Helper()
	up := &pipeline.Up{Config: cfg}
	if err := up.Open(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- up.Run(runCtx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil && runCtx.Err() == nil {
			t.Errorf("slipway up: %v", err)
		}
		up.Close()
	}
	t.Cleanup(stop)
	return &env{up: up, env: cfg.StagingEnv, window: cfg.Topology.DuplicateWindow}, stop
}

// makeLegacy turns what this version stored for the staging of the sample
// into what earlier versions stored: containers named
// slipway-<env>-<service>, the record keyed by the environment alone, the
// deploy results and requests on subjects without the repository and with
// ids without it, and no host claims or labels.
func makeLegacy(t *testing.T, ctx context.Context, cfg pipeline.Config) {
	t.Helper()
	cli := dockertest.MustDocker(t)
	env := cfg.StagingEnv
	for _, svc := range []string{"web", "api"} {
		if err := cli.ContainerRename(ctx, docker.LiveName(sample.RepoName, env, svc), docker.LegacyReplicaName(env, svc, 0)); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := natsjs.StartServer(natsjs.ServerConfig{Dir: cfg.DataDir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	nc, js := natsjs.MustJetStream(t, srv.ClientURL())
	defer nc.Close()
	kv, err := js.KeyValue(ctx, natsjs.BucketEnvs)
	if err != nil {
		t.Fatal(err)
	}
	key := events.EnvKey(sample.RepoName, env)
	rec, err := kv.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	var st deploy.State
	if err := json.Unmarshal(rec.Value(), &st); err != nil {
		t.Fatal(err)
	}
	st.Request = "deploy." + events.KeyPart(env) + "." + st.Commit
	b, _ := json.Marshal(st)
	if _, err := kv.Put(ctx, events.KeyPart(env), b); err != nil {
		t.Fatal(err)
	}
	if err := kv.Purge(ctx, key); err != nil {
		t.Fatal(err)
	}
	hosts, err := js.KeyValue(ctx, natsjs.BucketHosts)
	if err != nil {
		t.Fatal(err)
	}
	if lister, err := hosts.ListKeys(ctx); err == nil {
		for k := range lister.Keys() {
			_ = hosts.Purge(ctx, k)
		}
	}
	legacyResults(t, ctx, js, env)
}

// legacyResults moves the deploy requests and results of env of the sample
// to the subjects and ids earlier versions gave them.
func legacyResults(t *testing.T, ctx context.Context, js jetstream.JetStream, env string) {
	t.Helper()
	stream, err := js.Stream(ctx, natsjs.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	p := natsjs.NewPublisher(js, "/old")
	for _, prefix := range []string{events.SubjectDeployRequested, events.SubjectDeploySucceeded} {
		subject := events.EnvSubject(prefix, sample.RepoName, env)
		msgs, err := natsstore.Messages(ctx, js, subject)
		if err != nil || len(msgs) == 0 {
			t.Fatalf("messages on %s: %d, %v", subject, len(msgs), err)
		}
		if err := stream.Purge(ctx, jetstream.WithPurgeSubject(subject)); err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			ev, err := m.Decode()
			if err != nil {
				t.Fatal(err)
			}
			envl := m.Envelope
			switch r := ev.(type) {
			case *events.DeployRequested:
				envl.ID = "deploy." + events.KeyPart(env) + "." + r.Commit
			case *events.DeploySucceeded:
				r.Request = "deploy." + events.KeyPart(env) + "." + r.Commit
				envl.ID = r.Request + ".succeeded"
				if envl.Data, err = json.Marshal(r); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := p.PublishEnvelope(ctx, events.LegacyEnvSubject(prefix, env), envl); err != nil {
				t.Fatal(err)
			}
		}
	}
}
