package buildkit_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/buildkit"
	"github.com/slipway-dev/slipway/buildkit/buildkittest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/build"
)

// env is the real build chain a test runs against.
type env struct {
	builder  *buildkit.Builder
	registry string
	base     string
}

func mustEnv(tb testing.TB) env {
	tb.Helper()
	addr := buildkittest.MustBuildkit(tb)
	registry := buildkittest.MustRegistry(tb)
	base := buildkittest.MustBaseImage(tb, registry)
	b, err := buildkit.New(context.Background(), addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	return env{builder: b, registry: registry, base: base}
}

// testContext returns a context whose logger writes to the test log.
func testContext(tb testing.TB) context.Context {
	log := zerolog.New(zerolog.NewTestWriter(tb)).Level(zerolog.InfoLevel)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	tb.Cleanup(cancel)
	return log.WithContext(ctx)
}

// writeContext writes files into a new build context and returns its request.
func writeContext(tb testing.TB, files map[string]string) build.Request {
	tb.Helper()
	dir := tb.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return build.Request{ContextDir: dir, Dockerfile: filepath.Join(dir, "Dockerfile")}
}

func TestBuildPushes(t *testing.T) {
	e := mustEnv(t)
	repo := buildkittest.UniqueRepo(t)
	req := writeContext(t, map[string]string{
		"Dockerfile": "FROM " + e.base + "\nARG GREETING\nCOPY app.txt /app.txt\nRUN echo \"$GREETING\" > /greeting && cat /app.txt\n",
		"app.txt":    "hello\n",
	})
	req.Image = e.registry + "/" + repo + ":v1"
	req.CacheRef = e.registry + "/" + repo + "/cache:buildcache"
	req.BuildArgs = map[string]string{"GREETING": "hi"}
	var logs bytes.Buffer
	ctx := zerolog.New(&logs).Level(zerolog.DebugLevel).WithContext(testContext(t))
	res, err := e.builder.Build(ctx, req)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if !strings.HasPrefix(res.Digest, "sha256:") || len(res.Digest) != 71 {
		t.Fatalf("digest = %q, want sha256:<64 hex>", res.Digest)
	}
	got, err := buildkittest.ManifestDigest(e.registry, repo, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if got != res.Digest {
		t.Errorf("registry has %s, Build returned %s", got, res.Digest)
	}
	if _, err := buildkittest.ManifestDigest(e.registry, repo+"/cache", "buildcache"); err != nil {
		t.Errorf("layer cache not exported: %v", err)
	}
	for _, want := range []string{`"message":"build step done"`, `"step":"[3/3] RUN echo`, `"image":"` + req.Image} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("debug log lacks %s:\n%s", want, logs.String())
		}
	}
}

func TestBuildFailures(t *testing.T) {
	e := mustEnv(t)
	tests := []struct {
		name     string
		files    map[string]string
		wantStep string // part of the StepError's Step
		wantMsg  string // part of the error message
	}{
		{
			name:    "dockerfile parse error",
			files:   map[string]string{"Dockerfile": "FORM busybox\n"},
			wantMsg: "unknown instruction",
		},
		{
			name:     "failing RUN",
			files:    map[string]string{"Dockerfile": "FROM " + e.base + "\nRUN echo about to fail && exit 3\n"},
			wantStep: "RUN echo about to fail && exit 3",
			wantMsg:  "about to fail",
		},
		{
			name:    "missing COPY source",
			files:   map[string]string{"Dockerfile": "FROM " + e.base + "\nCOPY nope.txt /\n"},
			wantMsg: "nope.txt",
		},
		{
			name:    "missing base image",
			files:   map[string]string{"Dockerfile": "FROM " + e.registry + "/slipway-test/does-not-exist:v0\n"},
			wantMsg: "not found",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := writeContext(t, tt.files)
			req.Image = e.registry + "/" + buildkittest.UniqueRepo(t) + ":v1"
			_, err := e.builder.Build(testContext(t), req)
			t.Logf("error: %v", err)
			if !events.IsPermanent(err) {
				t.Fatalf("error = %v, want permanent", err)
			}
			var se *buildkit.StepError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v, want a *StepError", err)
			}
			if !strings.Contains(se.Step, tt.wantStep) {
				t.Errorf("step = %q, want it to contain %q", se.Step, tt.wantStep)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestUnreachableIsRetryable(t *testing.T) {
	e := mustEnv(t)
	closed := closedAddr(t)
	tests := []struct {
		name    string
		addr    string // buildkitd; empty for the real one
		image   string
		from    string
		wantMsg string
	}{
		{name: "buildkitd socket missing", addr: "unix://" + filepath.Join(t.TempDir(), "none.sock"), image: e.registry + "/x/y:v1", from: e.base},
		{name: "buildkitd port closed", addr: "tcp://" + closed, image: e.registry + "/x/y:v1", from: e.base},
		{name: "registry down on push", image: closed + "/" + buildkittest.UniqueRepo(t) + ":v1", from: e.base, wantMsg: "connection refused"},
		{name: "registry down on pull", image: e.registry + "/" + buildkittest.UniqueRepo(t) + ":v1", from: closed + "/busybox:stable", wantMsg: "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.builder
			if tt.addr != "" {
				var err error
				if b, err = buildkit.New(context.Background(), tt.addr); err != nil {
					t.Fatal(err)
				}
				defer b.Close()
			}
			req := writeContext(t, map[string]string{"Dockerfile": "FROM " + tt.from + "\nRUN echo " + t.Name() + " > /x\n"})
			req.Image = tt.image
			start := time.Now()
			_, err := b.Build(testContext(t), req)
			t.Logf("after %v: %v", time.Since(start).Round(time.Millisecond), err)
			var re *events.RetryableError
			if !errors.As(err, &re) || re.After <= 0 {
				t.Fatalf("error = %v, want retryable", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
		})
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestFailureQuotesABoundedExcerpt: a Dockerfile whose first line is 8 KiB
// with terminal escapes fails permanently with an error that quotes only a
// bounded, printable excerpt of it.
func TestFailureQuotesABoundedExcerpt(t *testing.T) {
	e := mustEnv(t)
	req := writeContext(t, map[string]string{"Dockerfile": "FORM\x1b[31m" + strings.Repeat("A", 8<<10) + " busybox" + "\n"})
	req.Image = e.registry + "/" + buildkittest.UniqueRepo(t) + ":v1"
	_, err := e.builder.Build(testContext(t), req)
	if !events.IsPermanent(err) {
		t.Fatalf("error = %v, want permanent", err)
	}
	if msg := err.Error(); len(msg) > 1024 || strings.Contains(msg, "\x1b") || !strings.Contains(msg, "unknown instruction") {
		t.Errorf("error is %d bytes: %.300q", len(msg), msg)
	}
}
