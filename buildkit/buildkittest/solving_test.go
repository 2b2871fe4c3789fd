package buildkittest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/buildkit"
	"github.com/slipway-dev/slipway/buildkit/buildkittest"
	"github.com/slipway-dev/slipway/workflows/build"
)

// TestWaitSolving starts a build whose RUN step lasts 3 seconds and checks
// that WaitSolving returns while BuildKit still runs it.
func TestWaitSolving(t *testing.T) {
	addr := buildkittest.MustBuildkit(t)
	registry := buildkittest.MustRegistry(t)
	base := buildkittest.MustBaseImage(t, registry)
	b, err := buildkit.New(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	dir := t.TempDir()
	dockerfile := fmt.Sprintf("FROM %s\nRUN echo %d && sleep 3\n", base, time.Now().UnixNano())
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	image := registry + "/" + buildkittest.UniqueRepo(t) + ":v1"
	done := make(chan error, 1)
	go func() {
		_, err := b.Build(context.Background(), build.Request{ContextDir: dir, Dockerfile: filepath.Join(dir, "Dockerfile"), Image: image})
		done <- err
	}()
	buildkittest.WaitSolving(t, addr, image, time.Minute)
	select {
	case err := <-done:
		t.Fatalf("WaitSolving returned after the build ended (%v), want while it runs", err)
	default:
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
