package faulttest_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/faulttest"
)

// These tests stop the machine's shared daemons. Each waits until no other
// test uses them (daemonlock) and restores them with scripts/setup.sh when it
// ends, whatever happened.

// TestFaultBuildkitdRestarted: buildkitd is killed (-9) in the middle of a
// build and started again at once. The cut build is retried with backoff
// and succeeds once.
func TestFaultBuildkitdRestarted(t *testing.T) {
	opts := faulttest.DefaultOptions()
	opts.RestartsDaemons = true
	s := faulttest.Start(t, opts)
	slowBuild(s, "web", 6*time.Second)
	p := s.Push("slow web")
	s.WaitBuilding(p.After, "web", 2*time.Minute)
	faulttest.StopDaemon(t, faulttest.Buildkitd, syscall.SIGKILL)
	faulttest.RestoreDaemons(t)
	s.WaitServing(p.After, 3*time.Minute)
	s.WaitIdle(time.Minute)
	r := s.Check(faulttest.Want{Final: p.After, Retried: true})
	if n := r.Started[p.After[:12]+"/web"]; n < 2 {
		t.Errorf("the web build cut by the restart was leased %d times, want a retry", n)
	}
}

// TestFaultRegistryDown: the registry is down for 30 seconds while a commit
// builds (base image, layer cache and push all need it). Builds are retried
// with backoff and each succeeds once; the previous commit keeps serving
// meanwhile; staging ends on the new commit.
func TestFaultRegistryDown(t *testing.T) {
	opts := faulttest.DefaultOptions()
	opts.RestartsDaemons = true
	s := faulttest.Start(t, opts)
	p1 := s.Push("first")
	s.WaitServing(p1.After, 3*time.Minute)

	faulttest.StopDaemon(t, faulttest.Registry, syscall.SIGKILL)
	down := time.Now()
	touch(s, "web")
	touch(s, "api")
	p2 := s.Push("while the registry is down")
	time.Sleep(30*time.Second - time.Since(down))
	if got, err := s.Serving("web"); got != "web "+p1.After {
		t.Errorf("with the registry down web answers %q (%v), want the previous commit", got, err)
	}
	faulttest.RestoreDaemons(t)
	t.Logf("registry back after %s", time.Since(down).Round(time.Second))
	s.WaitServing(p2.After, 3*time.Minute)
	s.WaitIdle(time.Minute)
	r := s.Check(faulttest.Want{Final: p2.After, Retried: true})
	for _, svc := range []string{"web", "api"} {
		if n := r.Started[p2.After[:12]+"/"+svc]; n < 2 {
			t.Errorf("the %s build was leased %d times while the registry was down, want retries", svc, n)
		}
	}
}

// TestFaultDockerdDown: dockerd is stopped while a deploy starts its new
// containers. Every container stops with it; once dockerd is back the
// previous commit serves again (its containers restart unless stopped),
// the deploy is retried with backoff and staging ends on the new commit,
// applied once.
func TestFaultDockerdDown(t *testing.T) {
	opts := faulttest.DefaultOptions()
	opts.RestartsDaemons = true
	s := faulttest.Start(t, opts)
	p1 := s.Push("first")
	s.WaitServing(p1.After, 3*time.Minute)

	slowStart(s, "web", 8*time.Second)
	p2 := s.Push("web starts slowly")
	s.WaitDeploying(p2.After, 2*time.Minute)
	faulttest.StopDaemon(t, faulttest.Dockerd, syscall.SIGTERM)
	time.Sleep(2 * time.Second)
	faulttest.RestoreDaemons(t)
	back := time.Now()
	var first string
	for time.Since(back) < time.Minute {
		if got, err := s.Serving("web"); err == nil {
			first = got
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if first != "web "+p1.After {
		t.Errorf("once dockerd was back web first answered %q, want the previous commit %s", first, p1.After[:12])
	} else {
		t.Logf("previous commit serving again %s after dockerd came back", time.Since(back).Round(time.Millisecond))
	}
	s.WaitServing(p2.After, 3*time.Minute)
	s.WaitIdle(time.Minute)
	r := s.Check(faulttest.Want{Final: p2.After})
	if n := r.DeployAttempts[p2.After[:12]]; n < 2 {
		t.Errorf("the deploy cut by dockerd's stop was leased %d times, want a retry", n)
	}
}

// TestFaultDockerdRestartedWhileServing: dockerd stops (SIGTERM) and starts
// again while an environment serves and nothing deploys, as on a package
// upgrade of the host. Every container stops with it; once dockerd is back
// the environment's containers restart (unless stopped) and the commit
// serves again, without a deploy.
func TestFaultDockerdRestartedWhileServing(t *testing.T) {
	opts := faulttest.DefaultOptions()
	opts.RestartsDaemons = true
	s := faulttest.Start(t, opts)
	p := s.Push("first")
	s.WaitServing(p.After, 3*time.Minute)
	s.WaitIdle(time.Minute)
	faulttest.StopDaemon(t, faulttest.Dockerd, syscall.SIGTERM)
	faulttest.RestoreDaemons(t)
	back := time.Now()
	s.WaitServing(p.After, time.Minute)
	t.Logf("serving again %s after dockerd came back", time.Since(back).Round(time.Millisecond))
	s.WaitIdle(time.Minute)
	r := s.Check(faulttest.Want{Final: p.After})
	if n := r.DeployAttempts[p.After[:12]]; n != 1 {
		t.Errorf("the commit was deployed %d times, want once: a restart of dockerd needs no deploy", n)
	}
}
