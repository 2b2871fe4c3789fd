package faulttest_test

import (
	"testing"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/faulttest"
)

// TestFaultDuplicateDeliveries delivers one push five times. Inside
// JetStream's duplicate window (2s here) every copy is dropped: a redelivery
// with the same delivery id by ingest's record of deliveries, a second
// webhook (new delivery id) by the stream's Nats-Msg-Id. Past the window a
// new delivery is stored again and the claims make it do nothing. One build
// per service, one deploy.
func TestFaultDuplicateDeliveries(t *testing.T) {
	s := faulttest.Start(t, faulttest.DefaultOptions())
	p := s.Commit("first")
	deliveries := []struct {
		id        string
		afterWait bool
		wantDup   bool
	}{
		{"d1", false, false},
		{"d1", false, true}, // the host redelivers
		{"d2", false, true}, // a second hook, inside the window
		{"d3", true, false}, // a third hook, past the window: stored again
		{"d1", false, true}, // the host redelivers again
	}
	for i, d := range deliveries {
		if d.afterWait {
			time.Sleep(s.Window() + 500*time.Millisecond)
		}
		code, dup, err := s.Deliver(p, d.id)
		if err != nil || code/100 != 2 {
			t.Fatalf("delivery %d: %d %v", i, code, err)
		}
		if dup != d.wantDup {
			t.Errorf("delivery %d (%s): duplicate = %v, want %v", i, d.id, dup, d.wantDup)
		}
	}
	s.WaitServing(p.After, 3*time.Minute)
	s.WaitIdle(time.Minute)
	s.Check(faulttest.Want{Final: p.After})
}
