package build_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

var repo = events.Repo{Forge: "github", FullName: "acme/shop", CloneURL: "http://git.invalid/acme/shop.git", DefaultBranch: "main"}

const twoServices = `version: 1
services:
  - name: web
    context: web
    port: 8080
  - name: api
    context: api
    port: 9090
`

// tree is a Source serving one commit's files from memory.
type tree map[string]string

func (t tree) ReadFile(_ context.Context, _ events.Repo, _, path string) ([]byte, error) {
	s, ok := t[path]
	if !ok {
		return nil, fmt.Errorf("%s: %w", path, fs.ErrNotExist)
	}
	return []byte(s), nil
}

func (t tree) Checkout(_ context.Context, _ events.Repo, _ string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "tree")
	if err != nil {
		return "", nil, err
	}
	for p, s := range t {
		_ = os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			return "", nil, err
		}
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// builder records solves and answers with err, or a digest.
type builder struct {
	mu     sync.Mutex
	solves []string
	err    error
}

func (b *builder) Build(_ context.Context, req build.Request) (build.Result, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.solves = append(b.solves, req.Image)
	if b.err != nil {
		return build.Result{}, b.err
	}
	return build.Result{Digest: "sha256:" + fmt.Sprintf("%064d", len(b.solves))}, nil
}

func newHandler(t *testing.T, src tree, b *builder) (*build.Handler, *workflowstest.Recorder) {
	t.Helper()
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	kv, err := js.KeyValue(context.Background(), natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	p := &workflowstest.Recorder{}
	return &build.Handler{
		Config:    build.Config{Registry: "localhost:5000", ClaimTTL: time.Minute},
		Source:    src,
		Builder:   b,
		Claims:    natsstore.NewClaims(kv, "test"),
		Publisher: p,
		Planner:   &build.Planner{Source: src, Publisher: p},
	}, p
}

func push(branch string) *events.PushReceived {
	return &events.PushReceived{Repo: repo, Ref: "refs/heads/" + branch, Branch: branch, After: sha}
}

func TestHandlePush(t *testing.T) {
	tests := []struct {
		name         string
		files        tree
		branch       string
		wantErr      func(error) bool
		wantRequests []string
		wantFailure  string
	}{
		{"plans one build per service", tree{"slipway.yaml": twoServices}, "main", nil, []string{"web", "api"}, ""},
		{"ignores other branches", tree{"slipway.yaml": twoServices}, "feature", isIgnored, nil, ""},
		{"fails without slipway.yaml", tree{}, "main", events.IsPermanent, nil, "slipway.yaml not found"},
		{"fails on a bad slipway.yaml", tree{"slipway.yaml": "version: 1\nservices:\n  - name: Web!\n"}, "main", events.IsPermanent, nil, "services[0].name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, p := newHandler(t, tt.files, &builder{})
			err := h.HandlePush(context.Background(), push(tt.branch))
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !tt.wantErr(err) {
				t.Fatalf("HandlePush() error = %v", err)
			}
			var got []string
			for _, e := range p.OfType(events.TypeBuildRequested) {
				r := e.(*events.BuildRequested)
				got = append(got, r.Service.Name)
				if r.Service.Port == 0 || r.Service.Context != r.Service.Name {
					t.Errorf("request of %s carries the spec %+v", r.Service.Name, r.Service)
				}
			}
			// Plan publishes the requests at once: in any order.
			slices.Sort(got)
			if want := slices.Sorted(slices.Values(tt.wantRequests)); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("build requests %v, want %v", got, want)
			}
			failures := p.OfType(events.TypeBuildFailed)
			if tt.wantFailure == "" && len(failures) > 0 {
				t.Errorf("unexpected failure %+v", failures[0])
			}
			if tt.wantFailure != "" && (len(failures) != 1 || !strings.Contains(failures[0].(*events.BuildFailed).Reason, tt.wantFailure)) {
				t.Errorf("failures %+v, want one mentioning %q", failures, tt.wantFailure)
			}
		})
	}
}

func requests() []*events.BuildRequested {
	var out []*events.BuildRequested
	for _, name := range []string{"web", "api"} {
		out = append(out, &events.BuildRequested{
			Repo: repo, Commit: sha, Branch: "main",
			Service: events.ServiceSpec{Name: name, Context: name, Dockerfile: "Dockerfile", Port: 8080, HealthPath: "/"},
		})
	}
	return out
}

var sources = tree{"slipway.yaml": twoServices, "web/Dockerfile": "FROM x\n", "api/Dockerfile": "FROM x\n"}

// TestHandleBuildOnce: each service is solved once however often its request
// comes, and the commit is announced built once, after the last service.
func TestHandleBuildOnce(t *testing.T) {
	b := &builder{}
	h, p := newHandler(t, sources, b)
	ctx := context.Background()
	reqs := requests()
	if err := h.HandleBuild(ctx, reqs[0]); err != nil {
		t.Fatal(err)
	}
	if n := len(p.OfType(events.TypeCommitBuilt)); n != 0 {
		t.Fatalf("commit built after one of two services (%d events)", n)
	}
	for i := 0; i < 3; i++ {
		for _, r := range reqs {
			if err := h.HandleBuild(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(b.solves) != 2 {
		t.Errorf("%d solves, want 2: %v", len(b.solves), b.solves)
	}
	built := p.OfType(events.TypeCommitBuilt)
	if len(built) != 1 {
		t.Fatalf("%d commit-built events, want 1", len(built))
	}
	if imgs := built[0].(*events.CommitBuilt).Images; len(imgs) != 2 || imgs[0].Digest == "" {
		t.Errorf("commit built with images %+v", imgs)
	}
}

func TestHandleBuildFailures(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		files      tree
		wantSolves int // after two deliveries
		permanent  bool
	}{
		{"permanent failure is not retried", events.Permanent(errors.New("RUN make: exit 2")), sources, 1, true},
		{"transient failure is retried", events.Retryable(errors.New("buildkitd unreachable"), time.Second), sources, 2, false},
		{"missing context fails without a solve", nil, tree{"slipway.yaml": twoServices}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &builder{err: tt.err}
			h, p := newHandler(t, tt.files, b)
			req := requests()[0]
			for i := 0; i < 2; i++ {
				err := h.HandleBuild(context.Background(), req)
				if err == nil || events.IsPermanent(err) != tt.permanent {
					t.Fatalf("delivery %d: error = %v, want permanent=%v", i, err, tt.permanent)
				}
			}
			if len(b.solves) != tt.wantSolves {
				t.Errorf("%d solves, want %d", len(b.solves), tt.wantSolves)
			}
			if got := len(p.OfType(events.TypeBuildFailed)) > 0; got != tt.permanent {
				t.Errorf("build-failed published = %v, want %v", got, tt.permanent)
			}
		})
	}
}

func TestImageRef(t *testing.T) {
	if got, want := build.ImageRef("localhost:5000", "Acme/Shop", "web", sha), "localhost:5000/acme/shop/web:"+sha; got != want {
		t.Errorf("ImageRef() = %q, want %q", got, want)
	}
}

func isIgnored(err error) bool {
	var ig *events.IgnoredError
	return errors.As(err, &ig)
}

// TestBuildFailedReasonIsBounded: a failure whose message is a megabyte of
// output with terminal escapes is published as a short, printable reason,
// for the service and for the commit.
func TestBuildFailedReasonIsBounded(t *testing.T) {
	huge := "RUN make: " + strings.Repeat("\x1b[2Koutput line\r\n", 1<<16)
	b := &builder{err: events.Permanent(errors.New(huge))}
	h, p := newHandler(t, sources, b)
	if err := h.HandleBuild(context.Background(), requests()[0]); !events.IsPermanent(err) {
		t.Fatalf("HandleBuild() error = %v, want permanent", err)
	}
	failures := workflowstest.Of[*events.BuildFailed](p)
	if len(failures) != 2 {
		t.Fatalf("%d build-failed events, want the service's and the commit's", len(failures))
	}
	for _, f := range failures {
		if len(f.Reason) > 4096 || strings.ContainsAny(f.Reason, "\x1b\r\n") || !strings.Contains(f.Reason, "RUN make: ") {
			t.Errorf("reason of %q is %d bytes: %.200q", f.Service, len(f.Reason), f.Reason)
		}
	}
}
