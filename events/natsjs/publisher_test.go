package natsjs_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// TestPublishRefusesOversizedEvents: an event past MaxEventSize is refused
// with a permanent error naming its size, and the stream does not grow; one
// just below it is stored.
func TestPublishRefusesOversizedEvents(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	p := natsjs.NewPublisher(js, "/slipway/test")
	repo := events.Repo{Forge: "github", FullName: "acme/shop"}
	failed := func(service string, reason int) *events.BuildFailed {
		return &events.BuildFailed{Repo: repo, Commit: strings.Repeat("a", 40), Branch: "main", Service: service, Reason: strings.Repeat("x", reason)}
	}
	stored := func() uint64 {
		stream, err := js.Stream(context.Background(), natsjs.StreamName)
		if err != nil {
			t.Fatal(err)
		}
		info, err := stream.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}
	if _, err := p.Publish(context.Background(), failed("small", natsjs.MaxEventSize-4096)); err != nil {
		t.Fatalf("Publish() of an event below the limit: %v", err)
	}
	_, err := p.Publish(context.Background(), failed("big", 2*natsjs.MaxEventSize))
	if !events.IsPermanent(err) || !strings.Contains(err.Error(), "more than the limit") {
		t.Errorf("Publish() error = %v, want permanent, naming the limit", err)
	}
	if n := stored(); n != 1 {
		t.Errorf("%d events stored, want only the small one", n)
	}
}
