package faulttest_test

import (
	"testing"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/faulttest"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/events"
)

// TestFaultRestartedBuilderResumesAtOnce: kill -9 of a builder with a
// stable -worker-id mid-build, and its restart under the same id: the new
// process takes the build over as soon as the message comes back (AckWait,
// 1s), long before the dead one's lease (60s) would have expired, and the
// commit is built and deployed once.
func TestFaultRestartedBuilderResumesAtOnce(t *testing.T) {
	opts := faulttest.DefaultOptions()
	opts.Builders, opts.ClaimTTL, opts.Topology.AckWait = 0, time.Minute, time.Second
	s := faulttest.Start(t, opts)
	builder := s.AddBuilder("-worker-id", "builder-0")
	slowBuild(s, "web", 6*time.Second)
	p := s.Push("slow web")
	victim := s.WaitBuilding(p.After, "web", 2*time.Minute)
	if victim != builder {
		t.Fatalf("the build runs on %s", victim.Name)
	}
	key := events.BuildKey(sample.RepoName, p.After, "web")
	first, _ := s.Claim(key)
	rerun := []string{p.After[:12] + "/web"}
	victim.Kill()
	if api, _ := s.Claim(events.BuildKey(sample.RepoName, p.After, "api")); api.State == "running" {
		rerun = append(rerun, p.After[:12]+"/api") // solved in parallel, interrupted too
	}
	killed := time.Now()
	victim.Start()
	for {
		info, _ := s.Claim(key)
		if info.Attempt >= 2 && info.State != "released" {
			if !victim.Holds(info.Holder) && info.State == "running" {
				t.Fatalf("the build was taken over by %s, not the restarted builder", info.Holder)
			}
			t.Logf("taken over %s after the kill (attempt %d, %s), the dead lease had %s left",
				time.Since(killed).Round(100*time.Millisecond), info.Attempt, info.State, time.Until(first.Expires).Round(time.Second))
			break
		}
		if !time.Now().Before(first.Expires) {
			t.Fatalf("the restarted builder did not take the build over before its predecessor's lease expired (%s after the kill): %+v",
				time.Since(killed).Round(time.Second), info)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.WaitServing(p.After, 3*time.Minute)
	s.WaitIdle(time.Minute)
	s.Check(faulttest.Want{Final: p.After, Rerun: rerun})
}
