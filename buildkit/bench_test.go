package buildkit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/buildkit"
	"github.com/slipway-dev/slipway/buildkit/buildkittest"
	"github.com/slipway-dev/slipway/workflows/build"
)

// benchDockerfile has an expensive step that only a fresh nonce invalidates,
// then a cheap step on app.txt, which each rebuild changes.
const benchDockerfile = `FROM %s
RUN echo %s > /nonce && dd if=/dev/urandom of=/blob bs=1M count=16 2>/dev/null && sha256sum /blob > /blob.sum && i=0 && while [ $i -lt 100000 ]; do i=$((i+1)); done
COPY app.txt /app.txt
RUN cat /app.txt /blob.sum > /app.copy
`

// BenchmarkBuild measures, in the same run, a cold build (no layer cache), a
// warm rebuild of a commit that changed one file, and the same warm rebuild
// done by the buildctl binary, and reports the ratios.
func BenchmarkBuild(b *testing.B) {
	e := mustEnv(b)
	buildctl := filepath.Join(envOr("SLIPWAY_HOME", "/var/lib/slipway"), "bin", "buildctl")
	if _, err := os.Stat(buildctl); err != nil {
		buildkittest.Missing(b, "buildctl: %v", err)
	}
	addr := buildkittest.MustBuildkit(b)
	repo := e.registry + "/" + buildkittest.UniqueRepo(b)
	ctx := context.Background()
	var cold, warm, raw time.Duration
	n := 0
	for b.Loop() {
		nonce := randomHex(b)
		req := writeContext(b, map[string]string{
			"Dockerfile": fmt.Sprintf(benchDockerfile, e.base, nonce),
			"app.txt":    "v1 " + nonce,
		})
		req.CacheRef = repo + "/cache:" + nonce
		cold += timeBuild(b, ctx, e.builder, req, repo+":cold-"+nonce)
		writeFile(b, filepath.Join(req.ContextDir, "app.txt"), "v2 "+nonce)
		warm += timeBuild(b, ctx, e.builder, req, repo+":warm-"+nonce)
		writeFile(b, filepath.Join(req.ContextDir, "app.txt"), "v3 "+nonce)
		raw += timeBuildctl(b, buildctl, addr, req, repo+":buildctl-"+nonce)
		n++
	}
	ms := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(n) }
	b.ReportMetric(ms(cold), "cold-ms/op")
	b.ReportMetric(ms(warm), "warm-ms/op")
	b.ReportMetric(ms(raw), "buildctl-ms/op")
	b.ReportMetric(float64(warm)/float64(raw), "slipway/buildctl-ratio")
	b.ReportMetric(float64(warm)/float64(cold), "warm/cold-ratio")
}

// timeBuild builds req as image with the Builder and returns how long it took.
func timeBuild(b *testing.B, ctx context.Context, builder *buildkit.Builder, req build.Request, image string) time.Duration {
	b.Helper()
	req.Image = image
	start := time.Now()
	if _, err := builder.Build(ctx, req); err != nil {
		b.Fatalf("build %s: %v", image, err)
	}
	return time.Since(start)
}

// timeBuildctl runs the same solve as Builder.Build with buildctl.
func timeBuildctl(b *testing.B, buildctl, addr string, req build.Request, image string) time.Duration {
	b.Helper()
	cache := "type=registry,ref=" + req.CacheRef + ",registry.insecure=true"
	cmd := exec.Command(buildctl, "--addr", addr, "build", "--progress=plain",
		"--frontend", "dockerfile.v0",
		"--local", "context="+req.ContextDir, "--local", "dockerfile="+filepath.Dir(req.Dockerfile),
		"--opt", "filename="+filepath.Base(req.Dockerfile),
		"--output", "type=image,name="+image+",push=true,registry.insecure=true",
		"--import-cache", cache,
		"--export-cache", cache+",mode=max,ignore-error=true,image-manifest=true,oci-mediatypes=true",
	)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("buildctl: %v\n%s", err, tail(string(out), 20))
	}
	return time.Since(start)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func writeFile(tb testing.TB, name, content string) {
	tb.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func randomHex(tb testing.TB) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
