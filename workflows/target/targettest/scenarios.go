package targettest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/target"
)

// testFirstDeploy: an empty environment runs nothing; after a deploy it
// runs the commit, read back from the target alone, and serves it at the
// addresses the target reports.
func testFirstDeploy(t *testing.T, s *suite) {
	if rel := s.mustCurrent(t, s.repo); len(rel.Services) != 0 || rel.Commit() != "" {
		t.Fatalf("Current() of a new environment = %+v, want nothing", rel)
	}
	if _, err := s.tg.ResolveAll(s.ctx, s.repo, s.env, "web"); !errors.Is(err, target.ErrNotLive) {
		t.Fatalf("ResolveAll of a new environment: %v, want target.ErrNotLive", err)
	}
	v1 := RandomCommit()
	s.mustDeploy(t, s.deployment(v1, image("web", s.cfg.Images.Serve, 0)))
	rel := s.mustRunRelease(t, v1, map[string]int{"web": 1})
	if web := rel.Services[0]; web.Digest != s.cfg.Images.Serve.Digest {
		t.Errorf("web runs digest %s, want %s", web.Digest, s.cfg.Images.Serve.Digest)
	}
	s.mustServe(t, s.repo, "web", v1)
}

// testNoOp: deploying the release an environment runs changes nothing:
// the same replicas keep serving at the same addresses.
func testNoOp(t *testing.T, s *suite) {
	v1 := RandomCommit()
	d := s.deployment(v1, image("web", s.cfg.Images.Serve, 2))
	s.mustDeploy(t, d)
	before := s.mustServe(t, s.repo, "web", v1)
	start := time.Now()
	s.mustDeploy(t, d)
	t.Logf("no-op redeploy took %s", time.Since(start))
	if after := s.mustServe(t, s.repo, "web", v1); !slices.Equal(after, before) {
		t.Errorf("after a no-op redeploy web is at %v, was at %v: replicas were replaced", after, before)
	}
	s.mustRunRelease(t, v1, map[string]int{"web": 2})
}

// testFailedHealth: a new release whose replica crashes, or never answers
// its health check, fails permanently with the reason and the replica's
// last log lines, and the previous commit keeps serving, every replica.
func testFailedHealth(t *testing.T, s *suite) {
	v1 := RandomCommit()
	s.mustDeploy(t, s.deployment(v1, image("web", s.cfg.Images.Serve, 2)))
	before := s.mustServe(t, s.repo, "web", v1)

	err := s.deploy(s.deployment(RandomCommit(), image("web", s.cfg.Images.Crash, 2)))
	if u := mustUnhealthy(t, err, "web", CrashLine); !strings.Contains(u.Logs, CrashLine) || u.Replica < 0 || u.Replica > 1 {
		t.Errorf("crashed replica %+v: want replica 0 or 1 with %q in its logs", u, CrashLine)
	}
	err = s.deploy(s.deployment(RandomCommit(), image("web", s.cfg.Images.NoHealth, 1)))
	if u := mustUnhealthy(t, err, "web", "/healthz"); !strings.Contains(u.Logs, "started without a health endpoint") {
		t.Errorf("logs of the replica without a health endpoint = %q, want its output", u.Logs)
	}

	if after := s.mustServe(t, s.repo, "web", v1); !slices.Equal(after, before) {
		t.Errorf("after failed deploys web is at %v, was at %v", after, before)
	}
	s.mustRunRelease(t, v1, map[string]int{"web": 2})
	if n := s.leftovers(t); n != 0 {
		t.Errorf("%d leftovers of the failed deploys, want none", n)
	}
}

// testRollback: deploying an earlier commit again serves it again.
func testRollback(t *testing.T, s *suite) {
	v1, v2 := RandomCommit(), RandomCommit()
	s.mustDeploy(t, s.deployment(v1, image("web", s.cfg.Images.Serve, 0)))
	s.mustDeploy(t, s.deployment(v2, image("web", s.cfg.Images.Serve, 0)))
	s.mustServe(t, s.repo, "web", v2)
	s.mustDeploy(t, s.deployment(v1, image("web", s.cfg.Images.Serve, 0)))
	s.mustServe(t, s.repo, "web", v1)
	s.mustRunRelease(t, v1, map[string]int{"web": 1})
}

// testServicesComeAndGo: a release with a new service starts it, one
// without a service removes it.
func testServicesComeAndGo(t *testing.T, s *suite) {
	v1, v2 := RandomCommit(), RandomCommit()
	s.mustDeploy(t, s.deployment(v1, image("web", s.cfg.Images.Serve, 0), image("api", s.cfg.Images.Serve, 0)))
	s.mustRunRelease(t, v1, map[string]int{"web": 1, "api": 1})
	s.mustServe(t, s.repo, "api", v1)
	s.mustDeploy(t, s.deployment(v2, image("web", s.cfg.Images.Serve, 0)))
	s.mustRunRelease(t, v2, map[string]int{"web": 1})
	if _, err := s.tg.ResolveAll(s.ctx, s.repo, s.env, "api"); !errors.Is(err, target.ErrNotLive) {
		t.Errorf("ResolveAll of the dropped service: %v, want target.ErrNotLive", err)
	}
}

// testScale: replicas go up and down with the release, each one serving.
func testScale(t *testing.T, s *suite) {
	v1, v2, v3 := RandomCommit(), RandomCommit(), RandomCommit()
	s.mustDeploy(t, s.deployment(v1, image("web", s.cfg.Images.Serve, 1)))
	s.mustDeploy(t, s.deployment(v2, image("web", s.cfg.Images.Serve, 3)))
	s.mustRunRelease(t, v2, map[string]int{"web": 3})
	if addrs := s.mustServe(t, s.repo, "web", v2); len(addrs) != 3 {
		t.Errorf("web at %v after scaling up, want 3 replicas", addrs)
	}
	s.mustDeploy(t, s.deployment(v3, image("web", s.cfg.Images.Serve, 1)))
	s.mustRunRelease(t, v3, map[string]int{"web": 1})
	if addrs := s.mustServe(t, s.repo, "web", v3); len(addrs) != 1 {
		t.Errorf("web at %v after scaling down, want 1 replica", addrs)
	}
	// The same commit with another replica count is a deploy, not a no-op.
	s.mustDeploy(t, s.deployment(v3, image("web", s.cfg.Images.Serve, 2)))
	s.mustRunRelease(t, v3, map[string]int{"web": 2})
}

// testTasks: a task runs to its end in the service's image and
// environment; its exit code and output come back, a failing one is not an
// error of the target.
func testTasks(t *testing.T, s *suite) {
	v1 := RandomCommit()
	d := s.deployment(v1, image("web", s.cfg.Images.Serve, 0))
	img := d.Images[0]
	ok := events.Task{Name: "migrate", Command: []string{"sh", "-c", `echo "task $SLIPWAY_TASK of $SLIPWAY_COMMIT in $SLIPWAY_ENV"`}}
	out, code, err := s.tg.RunTask(s.ctx, d, img, ok)
	if err != nil || code != 0 || !strings.Contains(out, "task migrate of "+v1+" in "+s.env) {
		t.Errorf("RunTask(migrate) = %q, %d, %v; want its output and exit code 0", out, code, err)
	}
	bad := events.Task{Name: "seed", Command: []string{"sh", "-c", "echo seeding failed >&2; exit 3"}}
	out, code, err = s.tg.RunTask(s.ctx, d, img, bad)
	if err != nil || code != 3 || !strings.Contains(out, "seeding failed") {
		t.Errorf("RunTask(seed) = %q, %d, %v; want its output and exit code 3", out, code, err)
	}
	slow := events.Task{Name: "slow", Command: []string{"sleep", "60"}, Timeout: time.Second}
	if _, _, err := s.tg.RunTask(s.ctx, d, img, slow); !events.IsPermanent(err) {
		t.Errorf("RunTask of a task past its timeout: %v, want permanent", err)
	}
	if rel := s.mustCurrent(t, s.repo); len(rel.Services) != 0 {
		t.Errorf("tasks left services running: %+v", rel)
	}
	if n := s.leftovers(t); n != 0 {
		t.Errorf("tasks left %d things behind", n)
	}
}

// testRemoval: removing an environment removes everything it runs, and
// nothing of another repository's environment of the same name; removing
// it again is not an error.
func testRemoval(t *testing.T, s *suite) {
	v1, v2 := RandomCommit(), RandomCommit()
	s.mustDeploy(t, s.deployment(v1, image("web", s.cfg.Images.Serve, 2)))
	other := s.deployment(v2, image("web", s.cfg.Images.Serve, 0))
	other.Repo = otherRepo
	s.mustDeploy(t, other)

	if err := s.tg.Remove(s.ctx, s.repo, s.env); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if rel := s.mustCurrent(t, s.repo); len(rel.Services) != 0 {
		t.Errorf("Current() after Remove = %+v, want nothing", rel)
	}
	if _, err := s.tg.ResolveAll(s.ctx, s.repo, s.env, "web"); !errors.Is(err, target.ErrNotLive) {
		t.Errorf("ResolveAll after Remove: %v, want target.ErrNotLive", err)
	}
	if n := s.leftovers(t); n != 0 {
		t.Errorf("%d things left after Remove", n)
	}
	s.mustServe(t, otherRepo, "web", v2)
	if err := s.tg.Remove(s.ctx, s.repo, s.env); err != nil {
		t.Errorf("Remove of a removed environment: %v", err)
	}
}

// testCrashedDeploy: what a deploy interrupted by a crash left is cleared
// by the next deploy, and the previous commit served until then.
func testCrashedDeploy(t *testing.T, s *suite) {
	if s.cfg.Crash == nil {
		t.Fatal("targettest.Config.Crash is nil: the implementation must say what a crashed deploy leaves")
	}
	v1, v2, v3 := RandomCommit(), RandomCommit(), RandomCommit()
	s.mustDeploy(t, s.deployment(v1, image("web", s.cfg.Images.Serve, 2)))
	s.cfg.Crash(t, s.ctx, s.tg, s.deployment(v2, image("web", s.cfg.Images.Serve, 2)))
	if n := s.leftovers(t); n == 0 {
		t.Fatal("Config.Crash left nothing behind")
	}
	s.mustServe(t, s.repo, "web", v1)
	s.mustRunRelease(t, v1, map[string]int{"web": 2})

	s.mustDeploy(t, s.deployment(v3, image("web", s.cfg.Images.Serve, 2)))
	s.mustRunRelease(t, v3, map[string]int{"web": 2})
	s.mustServe(t, s.repo, "web", v3)
	if n := s.leftovers(t); n != 0 {
		t.Errorf("%d leftovers of the crashed deploy after the next one", n)
	}
}
