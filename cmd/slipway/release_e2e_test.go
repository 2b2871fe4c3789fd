package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/registry"
	"github.com/slipway-dev/slipway/workflows/release"
)

func registryClient(host string) *registry.Client {
	c, err := registry.New(host, registry.Access{})
	if err != nil {
		panic(err) // no CA file to read: cannot fail
	}
	return c
}

// rig is Slipway with the sample monorepo declaring three environments of
// its own: staging (stg-<tag>) follows main, production (prod-<tag>) the pin
// file deploy/production.yaml, and every pull request gets a preview
// (pv-<tag>-<number>). The tag keeps the names apart from other tests on the
// same Docker daemon.
type rig struct {
	*env
	s              *sample.Sample
	tag            string
	stg, prod, prv string
	repo           events.Repo
	prs            []string // preview environments to remove at the end
	github         *fakeGitHub
	proxy          string
}

// rigManifest is the sample's slipway.yaml with the rig's environments.
func rigManifest(tag string) string {
	return fmt.Sprintf(`version: 1
services:
  - name: web
    context: services/web
    port: 8080
    health: /healthz
    env:
      GREETING: hello from web
  - name: api
    context: services/api
    port: 9090
    health: /healthz
    env:
      GREETING: hello from api
    tasks:
      - name: migrate
        command: echo migrated $SLIPWAY_COMMIT in $SLIPWAY_ENV
environments:
  stg-%[1]s: {}
  prod-%[1]s:
    pin: deploy/production.yaml
    keep: 5
    services:
      web:
        env: {GREETING: hello from production}
        hosts: [shop-%[1]s.example.test]
  pv-%[1]s:
    previews: true
    ttl: 1h
`, tag)
}

func startRig(t testing.TB, ctx context.Context) *rig { return startRigWith(t, ctx, nil) }

// startRigWith is startRig with configure (nil: none) changing the
// configuration before Slipway starts.
func startRigWith(t testing.TB, ctx context.Context, configure func(*pipeline.Config)) *rig {
	t.Helper()
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	tag := hex.EncodeToString(b)
	cfg := pipeline.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.MirrorDir = t.TempDir()
	cfg.NATSPort = -1
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.ProxyAddr = freeAddr(t)
	cfg.StagingEnv = "stg-" + tag
	cfg.HealthTimeout = 10 * time.Second
	cfg.Release.PreviewReconcile = time.Second
	gh := startFakeGitHub(t)
	if err := cfg.Release.ForgeTokens.Set("github=rig-token"); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Release.ForgeAPIs.Set("github=" + gh.srv.URL); err != nil {
		t.Fatal(err)
	}
	cfg.RepoSecrets = pipeline.RepoSecrets{sample.RepoName: {[]byte("e2e-secret")}}
	if err := cfg.HostGrants.Set(sample.RepoName + "=shop-" + tag + ".example.test"); err != nil {
		t.Fatal(err)
	}
	if r := os.Getenv("SLIPWAY_REGISTRY"); r != "" {
		cfg.Registry = r
	}
	if b := os.Getenv("BUILDKIT_HOST"); b != "" {
		cfg.BuildkitHost = b
	}
	if configure != nil {
		configure(&cfg)
	}
	log := testLogger(zerolog.NewTestWriter(t))
	ctx = log.WithContext(ctx)
	up := &pipeline.Up{Config: cfg}
	if err := up.Open(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- up.Run(runCtx) }()
	r := &rig{env: &env{up: up, env: "stg-" + tag, window: cfg.Topology.DuplicateWindow}, tag: tag,
		stg: "stg-" + tag, prod: "prod-" + tag, prv: "pv-" + tag, proxy: cfg.ProxyAddr, github: gh}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && runCtx.Err() == nil {
			t.Errorf("slipway up: %v", err)
		}
		up.Close()
		for _, e := range append([]string{r.stg, r.prod}, r.prs...) {
			removeEnv(t, e)
		}
	})
	s, err := sample.New(ctx, t.TempDir(), "e2e-secret")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.WriteFile("slipway.yaml", rigManifest(tag)); err != nil {
		t.Fatal(err)
	}
	// Each commit's images carry it as a label, so that every commit has
	// digests of its own (the clean-up works by digest).
	for _, svc := range []string{"web", "api"} {
		path := "services/" + svc + "/Dockerfile"
		b, err := os.ReadFile(filepath.Join(s.Repo.Dir, path))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.WriteFile(path, string(b)+"ARG SLIPWAY_COMMIT\nLABEL org.opencontainers.image.revision=${SLIPWAY_COMMIT}\n"); err != nil {
			t.Fatal(err)
		}
	}
	r.s = s
	r.repo = events.Repo{Forge: "github", FullName: sample.RepoName, CloneURL: s.Server.URL(sample.RepoName), DefaultBranch: "main"}
	return r
}

// git runs git in the sample's working tree.
func (r *rig) git(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.s.Repo.Dir, "-c", "user.name=Ada", "-c", "user.email=ada@acme.invalid"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// branchCommit commits content to path on branch (created from main when
// new), pushes the branch and returns the commit; main stays checked out.
func (r *rig) branchCommit(t testing.TB, branch, path, content string) string {
	t.Helper()
	r.git(t, "checkout", "-q", "-B", branch, map[bool]string{true: branch, false: "main"}[r.hasBranch(t, branch)])
	if err := r.s.WriteFile(path, content); err != nil {
		t.Fatal(err)
	}
	r.git(t, "add", "-A")
	r.git(t, "commit", "-q", "-m", "Change "+path+" on "+branch)
	sha := r.git(t, "rev-parse", "HEAD")
	r.git(t, "push", "-q", "origin", branch)
	r.git(t, "checkout", "-q", "main")
	return sha
}

func (r *rig) hasBranch(t testing.TB, branch string) bool {
	return exec.Command("git", "-C", r.s.Repo.Dir, "rev-parse", "--verify", "--quiet", "refs/heads/"+branch).Run() == nil
}

// sendPR delivers a signed GitHub pull_request webhook.
func (r *rig) sendPR(t testing.TB, ctx context.Context, action string, number int, head, branch string, merged bool) {
	t.Helper()
	repo := map[string]any{"full_name": sample.RepoName, "name": "shop", "clone_url": r.repo.CloneURL, "default_branch": "main",
		"owner": map[string]any{"login": "acme"}}
	body, _ := json.Marshal(map[string]any{
		"action": action, "number": number, "repository": repo, "sender": map[string]any{"login": "ada"},
		"pull_request": map[string]any{
			"number": number, "title": "Change " + branch, "user": map[string]any{"login": "ada"}, "merged": merged,
			"head": map[string]any{"ref": branch, "sha": head, "repo": repo},
			"base": map[string]any{"ref": "main", "sha": head, "repo": repo},
		},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.up.IngestURL()+"/webhooks/github", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if action == "closed" {
		r.github.setPR(number, "closed")
	} else {
		r.github.setPR(number, "open")
	}
	req.Header.Set("X-GitHub-Event", "pull_request")
	req.Header.Set("X-GitHub-Delivery", uuid.NewString())
	req.Header.Set("X-Hub-Signature-256", sample.Sign(body, r.s.Secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("pull_request %s #%d: %d %s", action, number, resp.StatusCode, out.String())
	}
}

// waitServingIn waits until both services of envName answer with sha.
func (r *rig) waitServingIn(t testing.TB, ctx context.Context, envName, sha string) {
	t.Helper()
	requireAnswers(t, ctx, &r.up.Config, envName, sha, 4*time.Minute)
}

// requireEnv checks, from the proxy and Docker's labels, that envName runs
// exactly both services at sha.
func (r *rig) requireEnv(t testing.TB, ctx context.Context, envName, sha string) {
	t.Helper()
	requireAnswers(t, ctx, &r.up.Config, envName, sha, 5*time.Second)
	all := dockertest.Containers(t, envName)
	if len(all) != 2 {
		t.Errorf("%s has containers %v, want 2", envName, all)
	}
	for _, c := range all {
		if !strings.HasSuffix(c, "@"+sha) {
			t.Errorf("%s: container %s, want every one at %s", envName, c, sha[:12])
		}
	}
}

// greeting returns what the service's /greeting answers in envName.
func (r *rig) greeting(ctx context.Context, envName, svc string) string {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.proxy+"/greeting", nil)
	req.Host = svc + "." + envName + ".shop.localhost"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return strings.TrimSpace(b.String())
}

// waitFor waits for an event on subject that keep accepts.
func (r *rig) waitFor(t testing.TB, ctx context.Context, subject string, keep func(events.Event) bool) events.Event {
	t.Helper()
	deadline := time.Now().Add(4 * time.Minute)
	for time.Now().Before(deadline) {
		for _, ev := range r.all(t, ctx, subject) {
			if keep(ev) {
				return ev
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("no matching event on %s", subject)
	return nil
}

// all returns every event stored on subject.
func (r *rig) all(t testing.TB, ctx context.Context, subject string) []events.Event {
	t.Helper()
	envs, err := natsjs.Events(ctx, r.up.Conn().JS, subject)
	if err != nil {
		t.Fatal(err)
	}
	var out []events.Event
	for _, env := range envs {
		if ev, err := env.Decode(); err == nil {
			out = append(out, ev)
		}
	}
	return out
}

// solves counts the BuildKit solves (uncached builds) of a commit.
func (r *rig) solves(t testing.TB, ctx context.Context, sha string) int {
	n := 0
	for _, ev := range r.all(t, ctx, events.SubjectBuildSucceeded) {
		if b := ev.(*events.BuildSucceeded); b.Commit == sha && !b.Cached {
			n++
		}
	}
	return n
}

// waitGone waits until envName has no container left.
func (r *rig) waitGone(t testing.TB, envName string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if len(dockertest.Containers(t, envName)) == 0 {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s still has containers %v after %s", envName, dockertest.Containers(t, envName), within)
}

// waitAllIdle waits until every consumer, the release and preview ones
// too, has handled every event.
func (r *rig) waitAllIdle(t testing.TB, ctx context.Context) {
	t.Helper()
	names := []string{pipeline.ConsumerPush, pipeline.ConsumerBuild, pipeline.ConsumerBuilt, pipeline.ConsumerDeploy,
		pipeline.ConsumerReleasePush, pipeline.ConsumerReleasePR, pipeline.ConsumerReleaseAsked, pipeline.ConsumerPreviewPR, pipeline.ConsumerPreviewBuilt}
	deadline := time.Now().Add(4 * time.Minute)
	for time.Now().Before(deadline) {
		idle := true
		for _, name := range names {
			c, err := r.up.Conn().JS.Consumer(ctx, natsjs.StreamName, name)
			if err != nil {
				t.Fatal(err)
			}
			info, err := c.Info(ctx)
			if err != nil || info.NumPending > 0 || info.NumAckPending > 0 {
				idle = false
			}
		}
		if idle {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatal("pipeline still busy after 4 minutes")
}

// TestReleaseFlow drives the whole release flow of issue 5 against the real
// components: staging follows main; a release pull request is planned and,
// merged, moves production to the pinned commit from the images already
// built (no BuildKit solve); a preview comes up when a pull request opens,
// follows its updates, and is gone on close and after a missed close;
// rollback two steps back; replay; a failing service leaves the whole
// environment on the previous commit; releases of commits never built or
// never healthy on staging are refused.
func TestReleaseFlow(t *testing.T) {
	requireComponents(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	r := startRig(t, ctx)
	out := &bytes.Buffer{}
	defer func() {
		if t.Failed() {
			t.Logf("command output:\n%s", out)
		}
	}()

	// Staging follows main.
	c1 := r.push(t, ctx, r.s, "Add web and api", "").After
	r.waitServingIn(t, ctx, r.stg, c1)
	if err := r.s.WriteFile("services/web/index.txt", "two\n"); err != nil {
		t.Fatal(err)
	}
	c2 := r.push(t, ctx, r.s, "Change web", "").After
	r.waitServingIn(t, ctx, r.stg, c2)
	r.waitAllIdle(t, ctx)
	r.requireEnv(t, ctx, r.stg, c2)

	// Refused: a commit never built.
	orphan := r.git(t, "commit-tree", c2+"^{tree}", "-p", c2, "-m", "never pushed")
	opts := releaseOptions{RepoDir: r.s.Repo.Dir, Remote: "origin", StagingEnv: r.stg}
	if _, err := releaseCommit(ctx, r.up.Conn(), orphan, opts, out); err == nil || !strings.Contains(err.Error(), "never built") {
		t.Fatalf("release of a commit never built: %v, want a refusal", err)
	}

	t.Run("release pull request moves production without a rebuild", func(t *testing.T) {
		branch, err := releaseCommit(ctx, r.up.Conn(), c1, opts, out)
		if err != nil {
			t.Fatal(err)
		}
		head := r.git(t, "rev-parse", branch)
		r.sendPR(t, ctx, "opened", 1, head, branch, false)
		plan := r.waitFor(t, ctx, events.EnvSubject(events.SubjectReleasePlanned, sample.RepoName, r.prod), func(ev events.Event) bool {
			return ev.(*events.ReleasePlanned).HeadSHA == head
		}).(*events.ReleasePlanned)
		if plan.From != "" || plan.To != c1 || len(plan.Services) != 2 || plan.Services[0].Change != events.ChangeAdded || len(plan.Problems) != 0 {
			t.Errorf("plan %+v: want both services added at %s, no problems", plan, c1[:12])
		}
		var text bytes.Buffer
		if err := plan0(ctx, r, &text); err != nil || !strings.Contains(text.String(), c1[:12]) || !strings.Contains(text.String(), "Ready") {
			t.Errorf("slipway plan: %v\n%s", err, text.String())
		}
		r.waitAllIdle(t, ctx)
		solves := r.solves(t, ctx, c1)

		// Merge: main moves to the release commit, the push changes the pin.
		r.git(t, "merge", "-q", "--ff-only", branch)
		start := time.Now()
		merge := r.push(t, ctx, r.s, "Release "+c1[:12], "").After
		r.sendPR(t, ctx, "closed", 1, head, branch, true)
		r.waitServingIn(t, ctx, r.prod, c1)
		t.Logf("production serves %s %s after the merge's push", c1[:12], time.Since(start).Round(time.Millisecond))
		if got := r.greeting(ctx, r.prod, "web"); got != "hello from production" {
			t.Errorf("web in production greets %q, want production's value", got)
		}
		if got, err := waitServing(ctx, r.proxy, "shop-"+r.tag+".example.test", "web "+c1, 10*time.Second); err != nil {
			t.Errorf("production's declared host answers %q (%v), want web at %s", got, err, c1[:12])
		}
		if got := r.greeting(ctx, r.prod, "api"); got != "hello from api" {
			t.Errorf("api in production greets %q, want the service's own value", got)
		}
		r.waitServingIn(t, ctx, r.stg, merge)
		r.waitAllIdle(t, ctx)
		r.requireEnv(t, ctx, r.prod, c1)
		if got := r.solves(t, ctx, c1); got != solves || got != 2 {
			t.Errorf("%d solves of %s after the release, %d before; want 2 and no new one", got, c1[:12], solves)
		}
		built := r.waitFor(t, ctx, events.SubjectCommitBuilt, func(ev events.Event) bool {
			return ev.(*events.CommitBuilt).Commit == c1
		}).(*events.CommitBuilt)
		ok := r.waitFor(t, ctx, events.EnvSubject(events.SubjectDeploySucceeded, sample.RepoName, r.prod), func(events.Event) bool { return true }).(*events.DeploySucceeded)
		for i, img := range ok.Images {
			if img.Digest != built.Images[i].Digest || img.Ref != built.Images[i].Ref {
				t.Errorf("production runs %s %s, built %s %s", img.Ref, img.Digest, built.Images[i].Ref, built.Images[i].Digest)
			}
		}
		if ok.Actor != "ada" || !strings.HasPrefix(ok.Trigger, "push.") || !strings.Contains(ok.Request, ".release-") {
			t.Errorf("production deploy recorded as %+v", ok.DeployResult)
		}
		r.waitGone(t, r.prv+"-1", time.Minute)
		r.prs = append(r.prs, r.prv+"-1")
		// The release pull request gets no preview: its head (the pin file
		// changed) is never built, nothing is deployed for it.
		if reqs := r.all(t, ctx, events.EnvSubject(events.SubjectDeployRequested, sample.RepoName, r.prv+"-1")); len(reqs) != 0 {
			t.Errorf("the release pull request got a preview: %d deploy request(s) of %s", len(reqs), r.prv+"-1")
		}
		if n := r.solves(t, ctx, head); n != 0 {
			t.Errorf("%d solves of the release branch's head %s, want none", n, head[:12])
		}
	})

	t.Run("preview follows its pull request and is removed on close", func(t *testing.T) {
		env := r.prv + "-2"
		r.prs = append(r.prs, env)
		f1 := r.branchCommit(t, "feature", "services/api/index.txt", "feature one\n")
		r.sendPR(t, ctx, "opened", 2, f1, "feature", false)
		r.waitServingIn(t, ctx, env, f1)
		f2 := r.branchCommit(t, "feature", "services/api/index.txt", "feature two\n")
		r.sendPR(t, ctx, "synchronize", 2, f2, "feature", false)
		r.waitServingIn(t, ctx, env, f2)
		r.waitAllIdle(t, ctx)
		r.requireEnv(t, ctx, env, f2)
		r.sendPR(t, ctx, "closed", 2, f2, "feature", false)
		r.waitGone(t, env, time.Minute)
		removed := r.waitFor(t, ctx, events.EnvSubject(events.SubjectPreviewRemoved, sample.RepoName, env), func(events.Event) bool { return true }).(*events.PreviewRemoved)
		if removed.Reason != events.RemovedClosed {
			t.Errorf("removal %+v", removed)
		}
	})

	t.Run("preview is removed after a missed close", func(t *testing.T) {
		env := r.prv + "-3"
		r.prs = append(r.prs, env)
		f3 := r.branchCommit(t, "feature-3", "services/web/index.txt", "feature three\n")
		r.sendPR(t, ctx, "opened", 3, f3, "feature-3", false)
		r.waitServingIn(t, ctx, env, f3)
		// The pull request merges and its branch is deleted; the webhook
		// never arrives.
		r.git(t, "push", "-q", "origin", "--delete", "feature-3")
		r.github.setPR(3, "closed")
		r.waitGone(t, env, time.Minute)
		removed := r.waitFor(t, ctx, events.EnvSubject(events.SubjectPreviewRemoved, sample.RepoName, env), func(events.Event) bool { return true }).(*events.PreviewRemoved)
		if removed.Reason != events.RemovedMissed {
			t.Errorf("removal %+v, want missed", removed)
		}
	})

	t.Run("rollback two steps back, then replay", func(t *testing.T) {
		r.waitAllIdle(t, ctx)
		head, err := r.s.Repo.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r.requireEnv(t, ctx, r.stg, head)
		solves := len(r.all(t, ctx, events.SubjectBuildRequested))
		d := deliberate{Actor: "ada", Wait: 2 * time.Minute}
		o, err := rollback(ctx, r.up.Conn(), sample.RepoName, r.stg, 2, "", d, out)
		if err != nil || o.Outcome != events.OutcomeSucceeded {
			t.Fatalf("rollback: %+v, %v", o, err)
		}
		r.requireEnv(t, ctx, r.stg, c1)
		o, err = rollback(ctx, r.up.Conn(), sample.RepoName, r.stg, 1, "", d, out)
		if !strings.Contains(fmt.Sprint(err), "no commit to roll back to") {
			t.Errorf("rollback past the first commit: %+v, %v", o, err)
		}
		// Replay the deploy of the merge commit: staging runs it again.
		var seq uint64
		for _, dep := range mustDeploys(t, ctx, r, r.stg) {
			if dep.Commit == head && dep.Succeeded() {
				seq = dep.Seq
			}
		}
		o, err = replay(ctx, r.up.Conn(), fmt.Sprint(seq), d, out)
		if err != nil || o.Outcome != events.OutcomeSucceeded {
			t.Fatalf("replay #%d: %+v, %v", seq, o, err)
		}
		r.requireEnv(t, ctx, r.stg, head)
		if n := len(r.all(t, ctx, events.SubjectBuildRequested)); n != solves {
			t.Errorf("%d build requests after rollback and replay, %d before: want none", n, solves)
		}
	})

	t.Run("a failing service keeps the whole environment on the previous commit", func(t *testing.T) {
		head, _ := r.s.Repo.Head(ctx)
		if err := r.s.WriteFile("services/api/start.sh", "rm /www/healthz\nexec httpd -f -p 9090 -h /www\n"); err != nil {
			t.Fatal(err)
		}
		r.github.setDown(true) // the git host's API hangs: the pipeline goes on
		defer r.github.setDown(false)
		bad := r.push(t, ctx, r.s, "Break api health", "").After
		failed := r.waitFor(t, ctx, events.EnvSubject(events.SubjectDeployFailed, sample.RepoName, r.stg), func(ev events.Event) bool {
			return ev.(*events.DeployFailed).Commit == bad
		}).(*events.DeployFailed)
		r.waitAllIdle(t, ctx)
		r.requireEnv(t, ctx, r.stg, head)
		if failed.Previous != head || !strings.Contains(failed.Reason, "api") {
			t.Errorf("failure %+v", failed.DeployResult)
		}
		if _, err := releaseCommit(ctx, r.up.Conn(), bad, opts, out); err == nil || !strings.Contains(err.Error(), "never ran healthy") {
			t.Errorf("release of a commit unhealthy on staging: %v, want a refusal", err)
		}
	})

	var hist bytes.Buffer
	if err := history(ctx, r.up.Conn(), sample.RepoName, r.stg, 0, &hist); err != nil {
		t.Fatal(err)
	}
	t.Logf("slipway history %s:\n%s", r.stg, hist.String())
	hist.Reset()
	if err := historyImages(ctx, r.up.Conn(), sample.RepoName, r.prod, 0, &hist); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"succeeded", "release by ada", "sha256:", "web", "api", "trigger push."} {
		if !strings.Contains(hist.String(), want) {
			t.Errorf("slipway history -images %s lacks %q:\n%s", r.prod, want, hist.String())
		}
	}
	hist.Reset()
	if err := historyImages(ctx, r.up.Conn(), sample.RepoName, r.stg, 0, &hist); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"rollback by ada", "replay by ada", "auto by slipway", "failed"} {
		if !strings.Contains(hist.String(), want) {
			t.Errorf("slipway history -images %s lacks %q:\n%s", r.stg, want, hist.String())
		}
	}
	t.Logf("slipway history -images %s:\n%s", r.stg, hist.String())

	t.Run("gc keeps the last commits of each environment", func(t *testing.T) {
		r.requireGC(t, ctx, c1, c2, out)
	})

	t.Run("commit statuses and the plan reach the git host", func(t *testing.T) {
		gh := r.github
		for _, want := range []ghStatus{
			{SHA: c1, Context: "slipway/build/web", State: "success"},
			{SHA: c1, Context: "slipway/build/api", State: "success"},
			{SHA: c1, Context: "slipway/deploy/" + r.stg, State: "success"},
			{SHA: c1, Context: "slipway/deploy/" + r.prod, State: "success"},
			{SHA: c2, Context: "slipway/deploy/" + r.stg, State: "success"},
		} {
			if got := gh.status(want.SHA, want.Context); got.State != want.State {
				t.Errorf("status %s on %s = %+v, want %s", want.Context, want.SHA[:12], got, want.State)
			}
		}
		if got := gh.status(c1, "slipway/deploy/"+r.prod); !strings.Contains(got.TargetURL, "web."+r.prod+".shop.localhost") {
			t.Errorf("production's status links to %q", got.TargetURL)
		}
		if cs := gh.commentsOf(1); len(cs) == 0 || !strings.Contains(cs[0], "Slipway release plan: "+r.prod) || !strings.Contains(cs[0], "Ready") {
			t.Errorf("comments on the release pull request: %q", cs)
		}
		for _, a := range gh.authorizations() {
			if a != "Bearer rig-token" {
				t.Errorf("a call authenticated with %q", a)
				break
			}
		}
	})

	t.Run("deployment tasks ran once per environment and commit", func(t *testing.T) {
		runs := map[string]int{}
		for _, envName := range []string{r.stg, r.prod} {
			for _, ev := range r.all(t, ctx, events.EnvSubject(events.SubjectTaskFinished, sample.RepoName, envName)) {
				tf := ev.(*events.TaskFinished)
				runs[envName+"@"+tf.Commit]++
				want := "migrated " + tf.Commit + " in " + envName
				if !tf.Succeeded() || tf.Service != "api" || tf.Task != "migrate" || !strings.Contains(tf.Output, want) {
					t.Errorf("task run %+v, want %q", tf, want)
				}
			}
		}
		// c1 ran on staging three times (first deploy, two rollbacks) and
		// once in production: its migration ran once in each.
		if runs[r.stg+"@"+c1] != 1 || runs[r.prod+"@"+c1] != 1 || runs[r.stg+"@"+c2] != 1 {
			t.Errorf("task runs %v, want one per environment and commit", runs)
		}
	})
}

// requireGC runs slipway gc keeping one commit per environment: staging's
// current commit and production's (c1) stay in the registry, c2 and the
// commits of removed previews and of the failed deploy go; a rollback to
// c1 still works.
func (r *rig) requireGC(t *testing.T, ctx context.Context, c1, c2 string, out *bytes.Buffer) {
	head, err := r.s.Repo.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stgNow := r.git(t, "rev-parse", head+"^") // the head is the broken commit; staging runs its parent
	o := gcOptions{Registry: r.up.Config.Registry, Keep: 1, MinAge: 0}
	deleted, err := gc(ctx, r.up.Conn(), gcOptions{Registry: o.Registry, Keep: 1, DryRun: true}, out)
	if err != nil || len(deleted) == 0 {
		t.Fatalf("gc -dry-run: %v, %v", deleted, err)
	}
	again, err := gc(ctx, r.up.Conn(), o, out)
	if err != nil || len(again) != len(deleted) {
		t.Fatalf("gc deleted %d, the dry run said %d: %v", len(again), len(deleted), err)
	}
	reg := registryClient(r.up.Config.Registry)
	for sha, want := range map[string]bool{c1: true, stgNow: true, c2: false, head: false} {
		for _, svc := range []string{"web", "api"} {
			_, err := reg.Digest(ctx, "acme/shop/"+svc, sha)
			if (err == nil) != want {
				t.Errorf("%s of %s in the registry after gc: %v, want kept %v", svc, sha[:12], err, want)
			}
		}
	}
	d := deliberate{Actor: "ada", Wait: 2 * time.Minute}
	if o, err := rollback(ctx, r.up.Conn(), sample.RepoName, r.stg, 0, c1, d, out); err != nil || o.Outcome != events.OutcomeSucceeded {
		t.Fatalf("rollback to the kept %s after gc: %+v, %v", c1[:12], o, err)
	}
	r.requireEnv(t, ctx, r.stg, c1)
}

// plan0 prints the last plan of the rig's production.
func plan0(ctx context.Context, r *rig, out *bytes.Buffer) error {
	return plan(ctx, r.up.Conn(), "", releaseOptions{Env: r.prod}, out)
}

func mustDeploys(t testing.TB, ctx context.Context, r *rig, env string) []release.Deploy {
	t.Helper()
	ds, err := natsstore.NewDeployLog(r.up.Conn().JS).Deploys(ctx, sample.RepoName, env)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}
