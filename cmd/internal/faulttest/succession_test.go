package faulttest_test

import (
	"context"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/faulttest"
	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// TestFaultRestartedBuilderResumesAtOnce: kill -9 of a builder with a
// stable -worker-id mid-build, and its restart under the same id: the new
// process resumes the build from its predecessor's record of the steps in
// flight and takes its lease over at once, before the dead lease (60s)
// would have expired and before JetStream redelivered the message
// (AckWait 30s); the commit is built and deployed once.
func TestFaultRestartedBuilderResumesAtOnce(t *testing.T) {
	opts := faulttest.DefaultOptions()
	opts.Builders, opts.ClaimTTL, opts.Topology.AckWait = 0, time.Minute, 30*time.Second
	s := faulttest.Start(t, opts)
	builder := s.AddBuilder("-worker-id", "builder-0")
	// The same work uninterrupted first, for the figure, after a first
	// commit (its first deploy, its cold builds).
	s.WaitServing(s.Push("first").After, 3*time.Minute)
	s.WaitIdle(time.Minute)
	slowBuild(s, "web", 6*time.Second)
	start := time.Now()
	s.WaitServing(s.Push("slow web, uninterrupted").After, 3*time.Minute)
	uninterrupted := time.Since(start)
	s.WaitIdle(time.Minute)

	slowBuild(s, "web", 6*time.Second)
	start = time.Now()
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
			if n := redelivered(t, s); n != 0 {
				t.Errorf("the build was taken over after JetStream redelivered %d message(s): not resumed from the predecessor's record", n)
			}
			break
		}
		if !time.Now().Before(first.Expires) {
			t.Fatalf("the restarted builder did not take the build over before its predecessor's lease expired (%s after the kill): %+v",
				time.Since(killed).Round(time.Second), info)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.WaitServing(p.After, 3*time.Minute)
	interrupted := time.Since(start)
	t.Logf("push → serving: %s with a kill -9 and restart mid-build, %s uninterrupted: %.2f×",
		interrupted.Round(100*time.Millisecond), uninterrupted.Round(100*time.Millisecond), interrupted.Seconds()/uninterrupted.Seconds())
	s.WaitIdle(time.Minute)
	s.Check(faulttest.Want{Final: p.After, Rerun: rerun})
}

// redelivered returns how many messages the build consumer redelivered.
func redelivered(t *testing.T, s *faulttest.Slipway) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := s.JS.Consumer(ctx, natsjs.StreamName, pipeline.ConsumerBuild)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.NumRedelivered
}
