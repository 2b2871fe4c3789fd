package faulttest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/faulttest"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
)

// TestFaultNATSKilledMidBurst: kill -9 of the external nats-server while a
// burst of pushes arrives, and a restart three seconds later. Webhooks
// refused meanwhile are delivered again, as git hosts do; every one ingest
// acknowledged survives, each commit is built once, and staging ends on the
// last commit (intermediate deploys may be superseded).
func TestFaultNATSKilledMidBurst(t *testing.T) {
	s := faulttest.Start(t, faulttest.DefaultOptions())
	const burst = 6
	var pushes []sample.Push
	var wg sync.WaitGroup
	for i := range burst {
		touch(s, "web")
		touch(s, "api")
		p := s.Commit("burst")
		pushes = append(pushes, p)
		if i == burst/2 {
			s.NATS[0].Kill()
			t.Logf("killed nats-server after %d pushes", i)
			time.AfterFunc(3*time.Second, func() { s.NATS[0].Start(); t.Log("nats-server restarted") })
		}
		wg.Add(1)
		go func() { defer wg.Done(); s.Redeliver(p) }()
		time.Sleep(300 * time.Millisecond)
	}
	wg.Wait()
	last := pushes[burst-1].After
	s.WaitServing(last, 3*time.Minute)
	s.WaitIdle(2 * time.Minute)
	// While NATS is away a running build cannot renew its lease: its step
	// is cancelled and leased again once NATS is back (workflows.KeepLease),
	// so attempts may exceed one; each build still succeeds exactly once.
	s.Check(faulttest.Want{Final: last, Retried: true})
}
