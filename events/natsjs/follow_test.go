package natsjs_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// TestFollowDeliversHeadersInOrder publishes on a followed and another
// subject: the follower gets the followed messages' headers, without their
// bodies, in stream order from its start, with their positions, and
// Position agrees with the server once all are delivered.
func TestFollowDeliversHeadersInOrder(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	followed, other := events.SubjectPushReceived, events.SubjectBuildRequested
	for i := range 6 {
		m := nats.NewMsg(followed)
		if i%2 == 1 {
			m.Subject = other
		}
		m.Header.Set("N", strconv.Itoa(i))
		m.Data = []byte("body")
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	stream, err := js.Stream(ctx, natsjs.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan natsjs.Headers, 16)
	errs := make(chan error, 16)
	f, err := natsjs.Follow(ctx, stream, natsjs.FollowConfig{Filters: []string{followed}, StartSeq: 2, PullExpiry: 2 * time.Second,
		OnError: func(err error) { errs <- err }}, func(h natsjs.Headers) { got <- h })
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	// Stream sequences 3 and 5 carry the followed messages 2 and 4 after
	// StartSeq 2; the last one is published after Follow started.
	want := []struct {
		n         string
		seq, cseq uint64
		pending   uint64
	}{{"2", 3, 1, 1}, {"4", 5, 2, 0}, {"6", 7, 3, 0}}
	var name string
	for i, w := range want {
		if i == 2 {
			m := nats.NewMsg(followed)
			m.Header.Set("N", "6")
			m.Data = []byte("body")
			if _, err := js.PublishMsg(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case h := <-got:
			if h.Header.Get("N") != w.n || h.Stream != w.seq || h.Consumer != w.cseq || h.Pending != w.pending ||
				h.ConsumerName == "" || h.Time.IsZero() || h.Header.Get(nats.MsgSize) != "4" {
				t.Errorf("message %d = %+v, want N %s at stream %d, consumer %d, %d pending, headers only", i, h, w.n, w.seq, w.cseq, w.pending)
			}
			name = h.ConsumerName
		case err := <-errs:
			t.Fatalf("follower error: %v", err)
		case <-ctx.Done():
			t.Fatalf("message %d not delivered: %v", i, ctx.Err())
		}
	}
	if got := f.ConsumerName(); got != name {
		t.Errorf("ConsumerName() = %q, messages came through %q", got, name)
	}
	delivered, pending, err := natsjs.Position(ctx, stream, name)
	if err != nil || delivered != 3 || pending != 0 {
		t.Errorf("Position() = %d delivered, %d pending, %v; want 3, 0", delivered, pending, err)
	}
	if _, _, err := natsjs.Position(ctx, stream, "no-such-consumer"); err == nil {
		t.Error("Position() of a missing consumer: no error")
	}
}
