package checks_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/checks"
	"github.com/slipway-dev/slipway/workflows/gate"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

const (
	sha      = "0123456789abcdef0123456789abcdef01234567"
	manifest = `version: 1
services:
  - name: api
    context: api
    port: 8080
checks:
  - name: unit
    service: api
    run: go test ./...
  - name: lint
    service: api
    run: go vet ./...
`
)

var repo = events.Repo{FullName: "acme/shop", DefaultBranch: "main", CloneURL: "https://git.example.test/acme/shop.git"}

// source is the commit's files and a checkout holding them.
type source struct{ workflowstest.Files }

func (s source) Checkout(_ context.Context, _ events.Repo, sha string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "checkout-")
	if err != nil {
		return "", nil, err
	}
	for path, content := range s.Files[sha] {
		p := filepath.Join(dir, path)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return "", nil, err
		}
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// runner counts its runs and answers the result of each check by name.
type runner struct {
	runs    atomic.Int32
	results map[string]checks.Result
	hold    chan struct{}
}

func (r *runner) RunCheck(ctx context.Context, req checks.Request) (checks.Result, error) {
	r.runs.Add(1)
	if r.hold != nil {
		select {
		case <-r.hold:
		case <-ctx.Done():
			return checks.Result{}, ctx.Err()
		}
	}
	return r.results[req.Run], nil
}

func mustHandler(t *testing.T, r *runner) (*checks.Handler, *natsstore.Claims, *workflowstest.Recorder) {
	t.Helper()
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	kv, err := js.KeyValue(context.Background(), natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	claims := natsstore.NewClaims(kv, t.Name())
	files := workflowstest.Files{sha: {"slipway.yaml": manifest, "api/Dockerfile": "FROM scratch\n"}}
	pub := &workflowstest.Recorder{}
	return &checks.Handler{Source: source{files}, Runner: r, Claims: claims, Publisher: pub,
		Planner: &build.Planner{Source: files}, ClaimTTL: 10 * time.Second}, claims, pub
}

func request(name, run string) *events.CheckRequested {
	return &events.CheckRequested{Repo: repo, Commit: sha, Branch: "main", Check: events.Check{Name: name, Service: "api", Run: run, Timeout: time.Minute}}
}

// TestCheckRunsOncePerCommit: a check redelivered after it ran, and the same
// check delivered to four workers at once, runs once; every delivery
// publishes the one recorded result.
func TestCheckRunsOncePerCommit(t *testing.T) {
	r := &runner{results: map[string]checks.Result{
		"go test ./...": {Reason: "exit code: 1", Log: []string{"--- FAIL: TestCart"}},
		"go vet ./...":  {Passed: true},
	}}
	h, claims, pub := mustHandler(t, r)
	ctx := context.Background()
	m, err := h.Planner.Manifest(ctx, repo, sha)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := checks.Verdict(ctx, claims, repo.FullName, sha, m.Checks()); err != nil || v.State != gate.Pending {
		t.Fatalf("verdict before any check ran: %+v, %v; want pending", v, err)
	}

	for range 2 { // a delivery, then its redelivery
		if err := h.HandleCheck(ctx, request("unit", "go test ./...")); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.runs.Load(); n != 1 {
		t.Fatalf("unit ran %d times for two deliveries, want once", n)
	}

	r.hold = make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = h.HandleCheck(ctx, request("lint", "go vet ./...")) }()
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.runs.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	close(r.hold)
	wg.Wait()
	held := 0
	for _, err := range errs {
		var retry *events.RetryableError
		if errors.As(err, &retry) {
			held++
		} else if err != nil {
			t.Errorf("concurrent delivery: %v", err)
		}
	}
	if n := r.runs.Load(); n != 2 || held != 3 {
		t.Fatalf("lint ran %d times in all (want 2 with unit); %d deliveries told to retry (want 3)", n, held)
	}

	got := workflowstest.Of[*events.CheckFinished](pub)
	if len(got) != 3 || got[0].DedupKey() != got[1].DedupKey() || got[0].Passed || got[2].Check != "lint" || !got[2].Passed {
		t.Fatalf("published %+v: want unit's failure twice (one id), lint's pass", got)
	}
	v, err := checks.Verdict(ctx, claims, repo.FullName, sha, m.Checks())
	if err != nil || v.State != gate.Blocked || v.Gate != "check/unit" || v.Reason != "check unit failed: exit code: 1" {
		t.Fatalf("verdict: %+v, %v; want blocked by unit with its reason", v, err)
	}
}

// builtHandler records the commits handed to it.
type builtHandler struct{ got []*events.CommitBuilt }

func (b *builtHandler) HandleBuilt(_ context.Context, e *events.CommitBuilt) error {
	b.got = append(b.got, e)
	return nil
}

// TestRedrive: the last check to finish hands a built commit over with the
// commit-built event's id; a check finishing before the builds, or while
// another check runs, hands nothing.
func TestRedrive(t *testing.T) {
	ctx := context.Background()
	r := &runner{results: map[string]checks.Result{"go test ./...": {Passed: true}, "go vet ./...": {Passed: true}}}
	h, claims, pub := mustHandler(t, r)
	got := &builtHandler{}
	rd := &checks.Redrive{Planner: h.Planner, Claims: claims, Handlers: []checks.BuiltHandler{got}}
	if err := h.HandleCheck(ctx, request("unit", "go test ./...")); err != nil {
		t.Fatal(err)
	}
	unit := workflowstest.Of[*events.CheckFinished](pub)[0]
	var ig *events.IgnoredError
	if err := rd.HandleFinished(ctx, unit); !errors.As(err, &ig) || len(got.got) != 0 {
		t.Fatalf("redrive before the builds: %v, handed %d", err, len(got.got))
	}
	lease, err := claims.Claim(ctx, events.BuildKey(repo.FullName, sha, "api"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := lease.Complete(ctx, []byte(`{"service":{"name":"api"},"image":"r/acme/shop/api:`+sha+`","digest":"sha256:`+sha[:32]+sha[:32]+`"}`)); err != nil {
		t.Fatal(err)
	}
	if err := rd.HandleFinished(ctx, unit); !errors.As(err, &ig) || len(got.got) != 0 {
		t.Fatalf("redrive with lint still to run: %v, handed %d", err, len(got.got))
	}
	if err := h.HandleCheck(ctx, request("lint", "go vet ./...")); err != nil {
		t.Fatal(err)
	}
	if err := rd.HandleFinished(ctx, workflowstest.Of[*events.CheckFinished](pub)[1]); err != nil {
		t.Fatal(err)
	}
	want := (&events.CommitBuilt{Repo: repo, Commit: sha, Branch: "main"}).DedupKey()
	if len(got.got) != 1 || got.got[0].DedupKey() != want || len(got.got[0].Images) != 1 {
		t.Fatalf("handed %+v, want the commit built as %s with its image", got.got, want)
	}
}
