// Package targettest is the conformance suite of target.Target: Run
// deploys the same releases to any implementation and checks what it
// serves, read back through the Target alone (Current, ResolveAll, Dial),
// the way watermill's universal tests check every Pub/Sub.
package targettest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
)

// Commands of the suite's images, for busybox images (dockertest.MustImage
// builds them). ServeCmd serves the commit it runs ($SLIPWAY_COMMIT) at /
// and "ok" at /healthz on Port; NoHealthCmd serves / but not /healthz;
// CrashCmd writes CrashLine to stderr and exits 3.
var (
	ServeCmd = []string{"sh", "-c", `mkdir -p /www && echo "$SLIPWAY_COMMIT" > /www/index.html && ` +
		`echo ok > /www/healthz && echo "serving $SLIPWAY_SERVICE in $SLIPWAY_ENV" && exec httpd -f -p 8080 -h /www`}
	NoHealthCmd = []string{"sh", "-c", `mkdir -p /www && echo "$SLIPWAY_COMMIT" > /www/index.html && ` +
		`echo "started without a health endpoint" && exec httpd -f -p 8080 -h /www`}
	CrashCmd = []string{"sh", "-c", `echo "` + CrashLine + `" >&2; exit 3`}
)

// CrashLine is what CrashCmd writes before it exits: a failed deploy's
// reason must carry it (the last log lines).
const CrashLine = "fatal: missing DATABASE_URL"

// Port is the port the suite's images serve on.
const Port = 8080

// Image is an image in a registry every target of the suite can pull.
type Image struct {
	Ref, Digest string
}

// Images are the suite's images, built from ServeCmd, NoHealthCmd and
// CrashCmd; Serve must also run `sh -c` (tasks run in it).
type Images struct {
	Serve, NoHealth, Crash Image
}

// Config is what Run needs of an implementation.
type Config struct {
	// New returns a fresh Target, closed by the suite. Its health gate must
	// give up within a few seconds (the suite deploys images that never
	// become healthy).
	New func(tb testing.TB) target.Target
	// Images are the suite's images.
	Images Images
	// Leftovers counts what the target holds for env of repo besides its
	// live replicas and the stopped replicas of the earlier releases it
	// retains for a rollback (candidates, retired containers, old replica
	// sets).
	Leftovers func(tb testing.TB, ctx context.Context, repo, env string) int
	// Crash leaves on tg what a Deploy of d leaves when its process dies
	// after starting the new replicas and before swapping them in.
	Crash func(tb testing.TB, ctx context.Context, tg target.Target, d deploy.Deployment)
}

// Run runs every scenario of the suite against cfg's implementation, each
// in an environment of its own that it removes when it ends.
func Run(t *testing.T, cfg Config) {
	t.Helper()
	scenarios := []struct {
		name string
		run  func(t *testing.T, s *suite)
	}{
		{"FirstDeploy", testFirstDeploy},
		{"NoOpRedeploy", testNoOp},
		{"FailedHealthKeepsPreviousServing", testFailedHealth},
		{"Rollback", testRollback},
		{"UnchangedServiceKept", testUnchangedKept},
		{"ServicesComeAndGo", testServicesComeAndGo},
		{"ScaleUpAndDown", testScale},
		{"Tasks", testTasks},
		{"Removal", testRemoval},
		{"CrashedDeployCleanedUp", testCrashedDeploy},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, newSuite(t, cfg)) })
	}
}

// suite is one scenario's target and environment.
type suite struct {
	cfg  Config
	tg   target.Target
	repo string
	env  string
	ctx  context.Context
}

// newSuite returns a fresh Target and environment, removed when t ends.
func newSuite(t *testing.T, cfg Config) *suite {
	t.Helper()
	tg := cfg.New(t)
	s := &suite{cfg: cfg, tg: tg, repo: "acme/shop", env: RandomName("t"), ctx: context.Background()}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, repo := range []string{s.repo, otherRepo} {
			if err := tg.Remove(ctx, repo, s.env); err != nil {
				t.Errorf("remove %s of %s: %v", s.env, repo, err)
			}
		}
		if err := tg.Close(); err != nil {
			t.Errorf("close target: %v", err)
		}
	})
	return s
}

// otherRepo is the repository whose environment of the same name the
// suite's must never touch.
const otherRepo = "acme/blog"

// RandomName returns prefix followed by random hex: a fresh environment
// or commit suffix.
func RandomName(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// RandomCommit returns a random 40-hex commit.
func RandomCommit() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// image returns the events.Image of service name from img with replicas.
func image(name string, img Image, replicas int) events.Image {
	return events.Image{
		Service: events.ServiceSpec{Name: name, Port: Port, HealthPath: "/healthz", Replicas: replicas},
		Ref:     img.Ref, Digest: img.Digest,
	}
}

// deployment returns the deployment of commit with imgs to s's
// environment, each image changed by the commit (RELEASE=<commit> in its
// env), as a real commit changes what it deploys: a target may keep the
// replicas of a service whose image and values did not change (release).
func (s *suite) deployment(commit string, imgs ...events.Image) deploy.Deployment {
	changed := make([]events.Image, len(imgs))
	for i, img := range imgs {
		env := map[string]string{"RELEASE": commit}
		for k, v := range img.Service.Env {
			env[k] = v
		}
		img.Service.Env = env
		changed[i] = img
	}
	return s.release(commit, changed...)
}

// release returns the deployment of commit with imgs as they are.
func (s *suite) release(commit string, imgs ...events.Image) deploy.Deployment {
	return deploy.Deployment{Env: s.env, Repo: s.repo, Commit: commit, Images: imgs}
}
