package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"
	"github.com/nats-io/nats.go"

	"github.com/slipway-dev/slipway/buildkit/buildkittest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/gitserver"
	"github.com/slipway-dev/slipway/natsstore"
)

// TestBuildsReuseWhatDidNotChange pushes commits of a three-service
// monorepo through a real builder (embedded NATS, git over HTTP, the shared
// buildkitd and registry) and counts BuildKit's solves: a cold commit
// solves the three in parallel; a commit touching one service solves that
// one and tags the other two images for the new commit by digest (once the
// commit is built: build.Handler.TagReused); a
// docs-only commit, and the merge of a release (a pin file changed), solve
// nothing; `build -force` solves all three again.
func TestBuildsReuseWhatDidNotChange(t *testing.T) {
	rig := newReuseRig(t, []string{"a", "b", "c"}, 3, "sleep 1")
	ctx := rig.ctx

	sha1 := rig.push(t, "Add a, b and c", map[string]string{})
	built1 := rig.waitBuilt(t, sha1, "")
	if got := rig.solves.started(3); got != 3 {
		t.Errorf("cold commit: %d solves, want 3", got)
	}
	if got := rig.solves.maxInFlight(); got < 2 {
		t.Errorf("cold commit with -build-workers 3: at most %d solve in flight, want the services solved in parallel", got)
	}
	for _, s := range []string{"a", "b", "c"} {
		if r := rig.record(t, sha1, s); r.ReusedFrom != "" {
			t.Errorf("cold build of %s reused from %s", s, r.ReusedFrom)
		}
	}

	sha2 := rig.push(t, "Change b", map[string]string{"services/b/index.txt": "b two\n"})
	built2 := rig.waitBuilt(t, sha2, "")
	if got := rig.solves.started(4); got != 4 {
		t.Errorf("commit touching b: %d solves in all, want 4 (b only)", got)
	}
	for _, s := range []string{"a", "c"} {
		if r := rig.record(t, sha2, s); r.ReusedFrom != sha1 || r.Digest != built1[s] {
			t.Errorf("%s at the second commit: reused from %q with %s, want from %s with %s", s, r.ReusedFrom, r.Digest, sha1[:8], built1[s])
		}
		if d := rig.taggedDigest(t, s, sha2, built1[s]); d != built1[s] {
			t.Errorf("registry: %s:%s is %q, want the reused digest %s", s, sha2[:8], d, built1[s])
		}
	}
	if r := rig.record(t, sha2, "b"); r.ReusedFrom != "" || built2["b"] == built1["b"] {
		t.Errorf("b at the second commit: reused from %q, digest %s (first %s); want a new solve", r.ReusedFrom, built2["b"], built1["b"])
	}
	if len(built2) != 3 {
		t.Errorf("commit built carries %d images, want every service's: %v", len(built2), built2)
	}

	sha3 := rig.push(t, "Docs only", map[string]string{"docs/README.md": "how it works\n"})
	built3 := rig.waitBuilt(t, sha3, "")
	if got := rig.solves.started(4); got != 4 {
		t.Errorf("docs-only commit: %d solves in all, want still 4", got)
	}
	for s, d := range built2 {
		if built3[s] != d {
			t.Errorf("docs-only commit: %s is %s, want %s", s, built3[s], d)
		}
	}

	// The merge of a release pull request changes only the pin file: the
	// staging deploy of the merge commit gets every image without a solve.
	sha4 := rig.push(t, "Release "+sha3[:12]+" to production", map[string]string{"deploy/production.yaml": "commit: " + sha3 + "\n"})
	built4 := rig.waitBuilt(t, sha4, "")
	if got := rig.solves.started(4); got != 4 {
		t.Errorf("release merge: %d solves in all, want still 4", got)
	}
	for s, d := range built3 {
		if built4[s] != d {
			t.Errorf("release merge: %s is %s, want %s", s, built4[s], d)
		}
	}

	if commit, services, err := ForceBuild(ctx, rig.conn, sha3[:10], "test-1"); err != nil || commit != sha3 || len(services) != 3 {
		t.Fatalf("ForceBuild(%s) = %s, %v, %v; want the commit's three services", sha3[:10], commit, services, err)
	}
	rig.waitBuilt(t, sha3, "test-1")
	if got := rig.solves.started(7); got != 7 {
		t.Errorf("forced rebuild: %d solves in all, want 7 (3 more)", got)
	}
}

// TestBuildWorkersBoundSolves: -build-workers 1 solves one service at a
// time, although the builder handles several requests at once.
func TestBuildWorkersBoundSolves(t *testing.T) {
	rig := newReuseRig(t, []string{"a", "b", "c"}, 1, "sleep 1")
	rig.waitBuilt(t, rig.push(t, "Add a, b and c", nil), "")
	if got, most := rig.solves.started(3), rig.solves.maxInFlight(); got != 3 || most != 1 {
		t.Errorf("-build-workers 1: %d solves, %d at once; want 3, one at a time", got, most)
	}
}

// reuseRig is a builder of one generated repository.
type reuseRig struct {
	ctx    context.Context
	repo   events.Repo
	git    *gitserver.Repo
	cfg    *Config
	conn   *Conn
	claims *natsstore.Claims
	solves *solveWatch
	// step is the RUN step of every service's Dockerfile.
	step string

	mu      sync.Mutex
	seen    map[string]events.Envelope // commit-built events by id
	failed  map[string]string          // build failures by commit
	arrived chan struct{}
}

// newReuseRig generates a repository of services (a Dockerfile and a file
// each, unique to the run so that BuildKit's cache has none of it) and
// runs a builder of it solving workers at once; each Dockerfile runs step.
func newReuseRig(t testing.TB, services []string, workers int, step string) *reuseRig {
	t.Helper()
	bk := buildkittest.MustBuildkit(t)
	reg := buildkittest.MustRegistry(t)
	base := buildkittest.MustBaseImage(t, reg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	t.Cleanup(cancel)

	root := t.TempDir()
	srv, err := gitserver.Start(root, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	name := strings.TrimPrefix(buildkittest.UniqueRepo(t), "slipway-test/")
	name = "slipway-test/" + name[max(0, len(name)-30):]
	g, err := gitserver.NewRepo(ctx, root, filepath.Join(t.TempDir(), "work"), name)
	if err != nil {
		t.Fatal(err)
	}
	r := &reuseRig{ctx: ctx, git: g, step: step,
		repo: events.Repo{Forge: "github", FullName: name, CloneURL: srv.URL(name), DefaultBranch: "main"}}
	manifest := "version: 1\nservices:\n"
	for i, s := range services {
		manifest += fmt.Sprintf("  - name: %s\n    context: services/%s\n    port: %d\n", s, s, 8080+i)
		r.write(t, "services/"+s+"/Dockerfile", "FROM "+base+"\nCOPY . /app\nRUN "+r.step+" && cat /app/index.txt\n")
		r.write(t, "services/"+s+"/index.txt", s+" "+name+"\n")
	}
	manifest += "environments:\n  staging: {}\n  production: {pin: deploy/production.yaml}\n"
	r.write(t, "slipway.yaml", manifest)

	cfg := DefaultConfig()
	cfg.BuildkitHost, cfg.Registry, cfg.MirrorDir = bk, reg, t.TempDir()
	cfg.BuildWorkers, cfg.Repos = workers, []string{name}
	cfg.Topology.AckWait = 10 * time.Second
	s := natsjs.MustServer(t)
	c, err := Dial(ctx, s.ClientURL(), "builder-test", cfg.Topology)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.NC.Close)
	r.cfg, r.conn = &cfg, c
	p, err := builderPlanning(&cfg, c)
	if err != nil {
		t.Fatal(err)
	}
	if r.claims, err = c.claims(ctx); err != nil {
		t.Fatal(err)
	}
	r.solves = watchSolves(t, ctx, bk, reg+"/"+name+"/")
	r.follow(t)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runBuilder(runCtx, &cfg, c, p) }()
	t.Cleanup(func() {
		// The tags of a commit's reused images are put after its
		// commit-built event: let them finish before the builder stops
		// (watermill-nats races when a message arrives as its subscriber
		// closes).
		r.waitTagged(t)
		stop()
		if err := <-done; err != nil && runCtx.Err() == nil {
			t.Errorf("builder: %v", err)
		}
	})
	return r
}

func (r *reuseRig) write(t testing.TB, path, content string) {
	t.Helper()
	if err := r.git.WriteFile(path, content); err != nil {
		t.Fatal(err)
	}
}

// push commits files, pushes main and publishes the push event.
func (r *reuseRig) push(t testing.TB, msg string, files map[string]string) string {
	t.Helper()
	for p, c := range files {
		r.write(t, p, c)
	}
	before, _ := r.git.Head(r.ctx)
	sha, err := r.git.CommitAndPush(r.ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	if before == "" {
		before = strings.Repeat("0", 40)
	}
	ev := &events.PushReceived{Repo: r.repo, Ref: "refs/heads/main", Branch: "main", Before: before, After: sha, ReceivedAt: time.Now()}
	if _, err := natsjs.NewPublisher(r.conn.JS, "/test").Publish(r.ctx, ev); err != nil {
		t.Fatal(err)
	}
	return sha
}

// waitBuilt waits for the commit-built event of sha (of the forced rebuild
// force, when set) and returns its digests by service.
func (r *reuseRig) waitBuilt(t testing.TB, sha, force string) map[string]string {
	t.Helper()
	id := events.ForcedKey(events.CommitKey(r.repo.FullName, "main", sha), force)
	for {
		r.mu.Lock()
		env, ok := r.seen[id]
		failed := r.failed[sha]
		r.mu.Unlock()
		if failed != "" {
			t.Fatalf("build of %s failed: %s", sha[:8], failed)
		}
		if ok {
			var built events.CommitBuilt
			if err := json.Unmarshal(env.Data, &built); err != nil {
				t.Fatal(err)
			}
			out := map[string]string{}
			for _, im := range built.Images {
				out[im.Service.Name] = im.Digest
			}
			return out
		}
		select {
		case <-r.ctx.Done():
			t.Fatalf("commit %s not built: %v", sha[:8], r.ctx.Err())
		case <-r.arrived:
		}
	}
}

// follow records the commit-built and build-failed events published from
// now on, waking waitBuilt.
func (r *reuseRig) follow(t testing.TB) {
	t.Helper()
	r.seen, r.failed, r.arrived = map[string]events.Envelope{}, map[string]string{}, make(chan struct{}, 1)
	for _, subject := range []string{events.SubjectCommitBuilt, events.SubjectCommitFailed, events.SubjectBuildFailed} {
		sub, err := r.conn.NC.Subscribe(subject, func(m *nats.Msg) {
			env, err := natsjs.DecodeHeaders(m.Header, m.Data)
			if err != nil {
				return
			}
			r.mu.Lock()
			if env.Type == events.TypeCommitBuilt {
				r.seen[env.ID] = env
			} else {
				var f events.BuildFailed
				_ = json.Unmarshal(env.Data, &f)
				r.failed[f.Commit] = f.Service + ": " + f.Reason
			}
			r.mu.Unlock()
			select {
			case r.arrived <- struct{}{}:
			default:
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sub.Unsubscribe() })
	}
}

// buildRecord is what the test reads of a completed build claim.
type buildRecord struct {
	Digest     string `json:"digest"`
	ReusedFrom string `json:"reused_from"`
}

func (r *reuseRig) record(t testing.TB, sha, service string) buildRecord {
	t.Helper()
	info, ok, err := r.claims.Inspect(r.ctx, events.BuildKey(r.repo.FullName, sha, service))
	if err != nil || !ok || info.State != "done" {
		t.Fatalf("build claim of %s at %s: %+v %v %v", service, sha[:8], info, ok, err)
	}
	var rec buildRecord
	if err := json.Unmarshal(info.Result, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// waitTagged waits, up to 30 seconds, until the builder-tag consumer has
// handled every commit-built event.
func (r *reuseRig) waitTagged(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		c, err := r.conn.JS.Consumer(ctx, natsjs.StreamName, ConsumerTag)
		if err == nil {
			if info, err := c.Info(ctx); err == nil && info.NumPending == 0 && info.NumAckPending == 0 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("builder-tag still busy after 30s")
}

// taggedDigest waits, up to 30 seconds, until the registry's service:sha is
// want (the tags of reused images are put after the commit-built event),
// and returns what it last was.
func (r *reuseRig) taggedDigest(t testing.TB, service, sha, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d := r.headDigest(t, service, sha)
		if d == want || time.Now().After(deadline) {
			return d
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// headDigest asks the registry, with a manifest HEAD, what service:sha is.
func (r *reuseRig) headDigest(t testing.TB, service, sha string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(r.ctx, http.MethodHead, "http://"+r.cfg.Registry+"/v2/"+r.repo.FullName+"/"+service+"/manifests/"+sha, nil)
	req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.Status
	}
	return resp.Header.Get("Docker-Content-Digest")
}

// solveWatch counts the solves buildkitd runs for images under prefix, from
// its build history, and the most that ran at once.
type solveWatch struct {
	mu       sync.Mutex
	inFlight map[string]bool
	count    int
	most     int
}

// started returns the solves counted, after waiting up to two seconds for
// the count to reach want (buildkitd's history events travel on their own
// stream and may trail the build's result).
func (w *solveWatch) started(want int) int {
	deadline := time.Now().Add(2 * time.Second)
	for {
		w.mu.Lock()
		n := w.count
		w.mu.Unlock()
		if n >= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (w *solveWatch) maxInFlight() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.most
}

// watchSolves follows buildkitd's active builds until ctx ends.
func watchSolves(t testing.TB, ctx context.Context, addr, prefix string) *solveWatch {
	t.Helper()
	c, err := client.New(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := c.ControlClient().ListenBuildHistory(ctx, &controlapi.BuildHistoryRequest{ActiveOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	w := &solveWatch{inFlight: map[string]bool{}}
	go func() {
		defer c.Close()
		for {
			ev, err := stream.Recv()
			if err != nil {
				return
			}
			if ev.Record == nil || !exportsUnder(ev.Record, prefix) {
				continue
			}
			w.mu.Lock()
			switch ev.Type {
			case controlapi.BuildHistoryEventType_STARTED:
				if !w.inFlight[ev.Record.Ref] {
					w.count++
				}
				w.inFlight[ev.Record.Ref] = true
				w.most = max(w.most, len(w.inFlight))
			case controlapi.BuildHistoryEventType_COMPLETE:
				delete(w.inFlight, ev.Record.Ref)
			}
			w.mu.Unlock()
		}
	}()
	return w
}

func exportsUnder(rec *controlapi.BuildHistoryRecord, prefix string) bool {
	for _, e := range rec.Exporters {
		if e.Type == client.ExporterImage && strings.HasPrefix(e.Attrs["name"], prefix) {
			return true
		}
	}
	return false
}
