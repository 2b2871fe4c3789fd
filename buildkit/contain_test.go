package buildkit_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/buildkit/buildkittest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/gitmirror"
	"github.com/slipway-dev/slipway/gitmirror/gittest"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

// TestRepositoryCannotReadHost commits the links of the attacks on the build
// host to a real git repository and runs the build workflow on it with the
// real mirror, buildkitd and registry. Each build fails permanently, naming
// the path in the repository; no content of a host file (one the test
// writes, or the builder's own environment) appears in the error or in any
// event, and nothing is pushed.
func TestRepositoryCannotReadHost(t *testing.T) {
	e := mustEnv(t)
	host := t.TempDir() // a host directory outside every checkout
	fileSecret, envSecret := "host-secret-"+randomHex(t), "env-secret-"+randomHex(t)
	writeFile(t, filepath.Join(host, "secret.txt"), fileSecret+"\n")
	writeFile(t, filepath.Join(host, "Dockerfile"), "FROM "+e.base+"\nCOPY secret.txt /secret.txt\n")
	t.Setenv("SLIPWAY_TEST_SECRET", envSecret) // what /proc/self/environ of the builder holds
	tests := []struct {
		name     string
		service  string            // context and dockerfile lines of the service
		files    map[string]string // committed besides slipway.yaml
		links    map[string]string // committed links: path -> target
		wantPath string            // the path the reason names
	}{
		{
			name:     "dockerfile through a link to /",
			service:  "context: .\n    dockerfile: hostroot" + host + "/secret.txt",
			links:    map[string]string{"hostroot": "/"},
			wantPath: `"hostroot" is a symbolic link`,
		},
		{
			name:     "dockerfile is the builder's environment through a link to /",
			service:  "context: .\n    dockerfile: hostroot/proc/self/environ",
			links:    map[string]string{"hostroot": "/"},
			wantPath: `"hostroot" is a symbolic link`,
		},
		{
			name:     "context is a link to a host directory",
			service:  "context: hostdir",
			links:    map[string]string{"hostdir": host},
			wantPath: `"hostdir" is a symbolic link`,
		},
		{
			name:     "context through a link to /",
			service:  "context: hostroot" + host,
			links:    map[string]string{"hostroot": "/"},
			wantPath: `"hostroot" is a symbolic link`,
		},
		{
			name:     "context holds a link leading out of the repository",
			service:  "context: web",
			files:    map[string]string{"web/Dockerfile": "FROM " + e.base + "\nCOPY leak /leak\n"},
			links:    map[string]string{"web/leak": host + "/secret.txt"},
			wantPath: `"web/leak" is a symbolic link leading outside the repository`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := gittest.MustRepo(t)
			yml := "version: 1\nservices:\n  - name: web\n    " + tt.service + "\n    port: 8080\n"
			r.WriteFile(manifest.Filename, yml)
			for p, content := range tt.files {
				r.WriteFile(p, content)
			}
			for p, target := range tt.links {
				r.Symlink(target, p)
			}
			sha := r.Commit("attack")
			repo := r.Events(buildkittest.UniqueRepo(t))
			repo.CloneURL = r.ServeHTTP(t) // the builder builds only what a git host could send
			h, pub := newBuildHandler(t, e)
			m, err := manifest.Parse([]byte(yml))
			if err != nil {
				t.Fatal(err)
			}
			req := &events.BuildRequested{Repo: repo, Commit: sha, Branch: "main", Service: m.Services()[0]}

			err = h.HandleBuild(testContext(t), req)
			t.Logf("error: %v", err)
			if !events.IsPermanent(err) {
				t.Fatalf("HandleBuild() error = %v, want permanent", err)
			}
			failed := workflowstest.Of[*events.BuildFailed](pub)
			if len(failed) == 0 {
				t.Fatal("no build-failed event")
			}
			if !strings.Contains(failed[0].Reason, tt.wantPath) {
				t.Errorf("reason %q does not name %s", failed[0].Reason, tt.wantPath)
			}
			for _, text := range append(reasons(failed), err.Error()) {
				if strings.Contains(text, fileSecret) || strings.Contains(text, envSecret) {
					t.Errorf("host content in %q", text)
				}
			}
			mustNotBePushed(t, e.registry, build.ImageRef(e.registry, repo.FullName, "web", sha))
		})
	}
}

// newBuildHandler returns the build workflow on the real mirror, builder and
// claims, with a recording publisher.
func newBuildHandler(t *testing.T, e env) (*build.Handler, *workflowstest.Recorder) {
	t.Helper()
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	kv, err := js.KeyValue(context.Background(), natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	mirror, err := gitmirror.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := &workflowstest.Recorder{}
	return &build.Handler{
		Config:    build.Config{Registry: e.registry, ClaimTTL: time.Minute},
		Source:    mirror,
		Builder:   e.builder,
		Claims:    natsstore.NewClaims(kv, "test"),
		Publisher: p,
		Planner:   &build.Planner{Source: mirror, Publisher: p},
	}, p
}

// mustNotBePushed fails the test when the registry serves image.
func mustNotBePushed(tb testing.TB, registry, image string) {
	tb.Helper()
	repo, tag, _ := strings.Cut(strings.TrimPrefix(image, registry+"/"), ":")
	if d, err := buildkittest.ManifestDigest(registry, repo, tag); err == nil {
		tb.Errorf("%s was pushed (%s)", image, d)
	}
}

func reasons(failed []*events.BuildFailed) []string {
	out := make([]string, len(failed))
	for i, f := range failed {
		out[i] = f.Reason
	}
	return out
}
