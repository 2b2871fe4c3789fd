package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	dockerevents "github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/secrets"
)

// secretStartSh is the web service's start script: it serves its commit
// and the value of DATABASE_URL it was given.
const secretStartSh = `printf '%s %s %s\n' "$SLIPWAY_SERVICE" "$SLIPWAY_COMMIT" "$DATABASE_URL" > /www/index.html
exec httpd -f -p 8080 -h /www
`

// secretManifest is the sample's slipway.yaml, its web service
// referencing DATABASE_URL when secret is true.
func secretManifest(secret bool) string {
	m := `version: 1
services:
  - name: web
    context: services/web
    port: 8080
    health: /healthz
  - name: api
    context: services/api
    port: 9090
    health: /healthz
`
	if secret {
		m = strings.Replace(m, "    health: /healthz\n", "    health: /healthz\n    secrets: [DATABASE_URL]\n", 1)
	}
	return m
}

// TestSecretsEndToEnd runs slipway up with real NATS, BuildKit, Docker
// and git: a commit referencing a secret never set fails to deploy,
// naming it, with nothing started and the previous commit serving; the
// CLI sets it with the published recipient alone (the key file out of
// its reach); the next deploy gives it to the container, which serves it;
// `secret set -redeploy` deploys the running commit again with the new
// value, recorded as a redeploy; a value sealed for another key than the
// deployer's fails the next redeploy, naming the secret and the key file,
// with the containers left serving. No value is in any message of any
// stream, in the logs (debug level), in `slipway history` or `slipway
// secret list`.
func TestSecretsEndToEnd(t *testing.T) {
	requireComponents(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	logs := &syncBuffer{}
	e := startSlipwayLogging(t, ctx, logs)
	ctx = zerolog.New(io.MultiWriter(zerolog.NewTestWriter(t), logs)).Level(zerolog.InfoLevel).WithContext(ctx)
	s, err := sample.New(ctx, t.TempDir(), "e2e-secret")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	values := []string{"postgres://app:first-" + randomSecret() + "@db/shop", "postgres://app:second-" + randomSecret() + "@db/shop"}
	write := func(path, content string) {
		t.Helper()
		if err := s.WriteFile(path, content); err != nil {
			t.Fatal(err)
		}
	}
	web := func(sha, value string) string { return strings.TrimSpace("web " + sha + " " + value) }
	waitWeb := func(sha, value string) {
		t.Helper()
		host := "web." + e.env + ".shop.localhost"
		if got, err := waitServing(ctx, e.up.Config.ProxyAddr, host, web(sha, value), 4*time.Minute); err != nil {
			t.Fatalf("%s never served %q (last %q): %v", host, web(sha, value), got, err)
		}
	}

	write("services/web/start.sh", secretStartSh)
	write("slipway.yaml", secretManifest(false))
	c1 := e.push(t, ctx, s, "web: serve DATABASE_URL", "").After
	waitWeb(c1, "")

	// A commit referencing a secret never set: failed, naming it, nothing started.
	write("slipway.yaml", secretManifest(true))
	since := time.Now()
	c2 := e.push(t, ctx, s, "web: use DATABASE_URL", "").After
	e.waitEvent(t, ctx, events.EnvSubject(events.SubjectDeployFailed, sample.RepoName, e.env), c2)
	e.waitIdle(t, ctx)
	failed := deployResults(t, ctx, e, sample.RepoName)
	if n := len(failed); n == 0 || failed[n-1].Commit != c2 || !strings.Contains(failed[n-1].Reason, "secret DATABASE_URL of "+e.env+" of "+sample.RepoName+" is not set") {
		t.Fatalf("deploy of %s: %+v, want failed naming DATABASE_URL", c2[:12], failed)
	}
	if created := containersCreated(t, ctx, since, c2); created != 0 {
		t.Errorf("%d containers of %s were created, want none", created, c2[:12])
	}
	waitWeb(c1, "")
	requireRequestNames(t, ctx, e, c2)

	// The CLI seals with the published recipient alone: the key file is
	// moved out of its reach while it runs.
	keyFile := secrets.KeyFile(e.up.Config.DataDir)
	if err := os.Rename(keyFile, keyFile+".away"); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cli := deliberate{Actor: "ada", Wait: 3 * time.Minute}
	err = secretSet(ctx, e.up.Conn(), sample.RepoName, e.env, "DATABASE_URL", []byte(values[0]), false, cli, &out)
	if rerr := os.Rename(keyFile+".away", keyFile); err != nil || rerr != nil {
		t.Fatalf("secret set: %v (restoring the key file: %v)\n%s", err, rerr, out.String())
	}
	requireSealed(t, ctx, e, values[0])

	c3 := e.push(t, ctx, s, "web: again", "").After
	waitWeb(c3, values[0])
	e.waitIdle(t, ctx) // c3 recorded as what the environment runs

	// A changed secret, with -redeploy: the running commit again.
	out.Reset()
	if err := secretSet(ctx, e.up.Conn(), sample.RepoName, e.env, "DATABASE_URL", []byte(values[1]), true, cli, &out); err != nil {
		t.Fatalf("secret set -redeploy: %v\n%s", err, out.String())
	}
	t.Logf("secret set -redeploy:\n%s", out.String())
	waitWeb(c3, values[1])
	e.waitIdle(t, ctx)
	ds, err := natsstore.NewDeployLog(e.up.Conn().JS).Deploys(ctx, sample.RepoName, e.env)
	if err != nil {
		t.Fatal(err)
	}
	last := ds[len(ds)-1]
	if last.Commit != c3 || last.Kind != events.KindRedeploy || last.Outcome != events.OutcomeSucceeded || last.Actor != "ada" ||
		!strings.HasPrefix(last.Trigger, natsstore.SecretKey(sample.RepoName, e.env, "DATABASE_URL")+".") {
		t.Errorf("last deploy %+v, want a succeeded redeploy of %s by ada triggered by the secret", last.DeployResult, c3[:12])
	}

	// A value sealed for another key than the deployer's (the recipient
	// published by a deployer with another key file): the redeploy fails,
	// naming the secret and the key file; the running containers stay.
	other, err := secrets.EnsureKey(filepath.Join(t.TempDir(), "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := e.up.Conn().JS.KeyValue(ctx, natsjs.BucketSecrets)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, natsstore.RecipientKey, []byte(other.Recipient())); err != nil {
		t.Fatal(err)
	}
	values = append(values, "postgres://app:third-"+randomSecret()+"@db/shop")
	out.Reset()
	err = secretSet(ctx, e.up.Conn(), sample.RepoName, e.env, "DATABASE_URL", []byte(values[2]), true, cli, &out)
	if err == nil || !strings.Contains(err.Error(), "secret DATABASE_URL of "+e.env+" of "+sample.RepoName+" cannot be opened") ||
		!strings.Contains(err.Error(), keyFile) || !strings.Contains(err.Error(), "sealed for another key") {
		t.Errorf("redeploy with a value sealed for another key: %v, want a failure naming DATABASE_URL and %s", err, keyFile)
	} else if strings.Contains(err.Error(), values[2]) {
		t.Error("the error holds the value")
	}
	e.waitIdle(t, ctx)
	waitWeb(c3, values[1])

	var shown strings.Builder
	if err := history(ctx, e.up.Conn(), sample.RepoName, e.env, 0, &shown); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(shown.String(), "redeploy") {
		t.Errorf("history does not show the redeploy:\n%s", shown.String())
	}
	if err := secretList(ctx, e.up.Conn(), sample.RepoName, e.env, &shown); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(shown.String(), "DATABASE_URL") || !strings.Contains(shown.String(), "ada") {
		t.Errorf("secret list does not show DATABASE_URL set by ada:\n%s", shown.String())
	}
	for _, v := range values {
		requireNowhere(t, ctx, e, v, map[string]string{"logs": logs.String(), "history and secret list": shown.String(), "CLI output": out.String()})
	}
}

// startSlipwayLogging is startSlipway with the log, at debug level, also
// written to w.
func startSlipwayLogging(t *testing.T, ctx context.Context, w io.Writer) *env {
	t.Helper()
	cfg := pipeline.DefaultConfig()
	cfg.DataDir, cfg.MirrorDir = t.TempDir(), t.TempDir()
	cfg.NATSPort, cfg.HTTPAddr, cfg.ProxyAddr = -1, "127.0.0.1:0", freeAddr(t)
	cfg.StagingEnv = fmt.Sprintf("sec-%d", time.Now().UnixNano()%1e6)
	cfg.HealthTimeout = 10 * time.Second
	cfg.RepoSecrets = pipeline.RepoSecrets{sample.RepoName: {[]byte("e2e-secret")}}
	if r := os.Getenv("SLIPWAY_REGISTRY"); r != "" {
		cfg.Registry = r
	}
	if b := os.Getenv("BUILDKIT_HOST"); b != "" {
		cfg.BuildkitHost = b
	}
	ctx = zerolog.New(io.MultiWriter(zerolog.NewTestWriter(t), w)).Level(zerolog.DebugLevel).WithContext(ctx)
	up := &pipeline.Up{Config: cfg}
	if err := up.Open(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- up.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil && runCtx.Err() == nil {
			t.Errorf("slipway up: %v", err)
		}
		up.Close()
		removeEnv(t, cfg.StagingEnv)
	})
	return &env{up: up, env: cfg.StagingEnv, window: cfg.Topology.DuplicateWindow}
}

// containersCreated counts the containers Docker created since for commit.
func containersCreated(t *testing.T, ctx context.Context, since time.Time, commit string) int {
	t.Helper()
	cli := dockertest.MustDocker(t)
	msgs, errs := cli.Events(ctx, dockerevents.ListOptions{
		Since: since.Format(time.RFC3339Nano), Until: time.Now().Format(time.RFC3339Nano),
		Filters: filters.NewArgs(filters.Arg("type", "container"), filters.Arg("event", "create"),
			filters.Arg("label", docker.LabelCommit+"="+commit)),
	})
	n := 0
	for {
		select {
		case <-msgs:
			n++
		case err := <-errs:
			if err != nil && !errors.Is(err, io.EOF) {
				t.Fatalf("docker events: %v", err)
			}
			return n
		}
	}
}

// requireRequestNames checks that the deploy request of commit names the
// secret its web service references.
func requireRequestNames(t *testing.T, ctx context.Context, e *env, commit string) {
	t.Helper()
	envs, err := natsjs.Events(ctx, e.up.Conn().JS, events.EnvSubject(events.SubjectDeployRequested, sample.RepoName, e.env))
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range envs {
		ev, err := env.Decode()
		if req, ok := ev.(*events.DeployRequested); err == nil && ok && req.Commit == commit {
			for _, img := range req.Images {
				if img.Service.Name == "web" && slices.Equal(img.Service.Secrets, []string{"DATABASE_URL"}) {
					return
				}
			}
			t.Fatalf("deploy request of %s: %+v, want web naming DATABASE_URL", commit[:12], req.Images)
		}
	}
	t.Fatalf("no deploy request of %s", commit[:12])
}

// requireSealed checks that the stored secret holds no plain value and
// opens with the deployer's key file.
func requireSealed(t *testing.T, ctx context.Context, e *env, value string) {
	t.Helper()
	key, err := secrets.LoadKey(secrets.KeyFile(e.up.Config.DataDir))
	if err != nil {
		t.Fatal(err)
	}
	store, err := e.up.Conn().Secrets(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := store.Get(ctx, sample.RepoName, e.env, "DATABASE_URL")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sec.Sealed, []byte(value)) || sec.Recipient != key.Recipient() || sec.SetBy != "ada" {
		t.Fatalf("stored secret: recipient %s, set by %s; want sealed for %s by ada", sec.Recipient, sec.SetBy, key.Recipient())
	}
	if got, err := key.Open(sec.Sealed); err != nil || string(got) != value {
		t.Fatalf("the deployer's key does not open the stored secret: %v", err)
	}
}

// requireNowhere fails when value is in any message (data or headers) of
// any stream of the server, or in any of texts.
func requireNowhere(t *testing.T, ctx context.Context, e *env, value string, texts map[string]string) {
	t.Helper()
	for what, text := range texts {
		if strings.Contains(text, value) {
			t.Errorf("the %s hold a secret's value", what)
		}
	}
	js := e.up.Conn().JS
	names := js.StreamNames(ctx)
	scanned := 0
	for name := range names.Name() {
		st, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
			m, err := st.GetMsg(ctx, seq)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			scanned++
			if bytes.Contains(m.Data, []byte(value)) || strings.Contains(fmt.Sprint(m.Header), value) {
				t.Errorf("message %d of stream %s (%s) holds a secret's value", seq, name, m.Subject)
			}
		}
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
	if scanned < 20 {
		t.Errorf("scanned %d messages, want the whole history of the run", scanned)
	}
}
