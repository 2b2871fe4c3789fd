package faulttest_test

import (
	"testing"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/faulttest"
	"github.com/slipway-dev/slipway/docker/dockertest"
)

// TestFaultDeployerKilledMidDeploy: kill -9 of the deployer in the middle of
// a deploy (its new containers are starting). The other deployer waits for
// the environment's lock, takes it over when the dead holder's lease
// expires, clears the half-done deploy and converges on the commit; the
// previous commit serves meanwhile.
func TestFaultDeployerKilledMidDeploy(t *testing.T) {
	opts := faulttest.DefaultOptions()
	opts.Deployers = 2
	s := faulttest.Start(t, opts)
	p1 := s.Push("first")
	s.WaitServing(p1.After, 3*time.Minute)

	slowStart(s, "web", 5*time.Second)
	p2 := s.Push("web starts slowly")
	victim := s.WaitDeploying(p2.After, 2*time.Minute)
	victim.Kill()
	t.Logf("killed %s mid-deploy", victim.Name)
	if got, err := s.Serving("web"); got != "web "+p1.After {
		t.Errorf("right after the kill web answers %q (%v), want the previous commit", got, err)
	}
	s.WaitServing(p2.After, 3*time.Minute)
	s.WaitIdle(time.Minute)
	s.Check(faulttest.Want{Final: p2.After})
	// The other deployer took the lock and the deploy over: it leased the
	// deploy a second time and completed it.
	req, _ := s.DeployRequest(p2.After)
	if claim, _ := s.Claim(req.DedupKey()); claim.State != "done" || claim.Attempt != 2 || victim.Holds(claim.Holder) {
		t.Errorf("deploy of %s: claim %s after %d leases, held by %s; want done after 2, by the deployer left", p2.After[:12], claim.State, claim.Attempt, claim.Holder)
	}
	if n := len(dockertest.Containers(t, s.Env)); n != 2 {
		t.Errorf("%d containers labelled with %s, want 2 (the crashed deploy's candidates removed)", n, s.Env)
	}
}
