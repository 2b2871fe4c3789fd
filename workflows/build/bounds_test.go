package build_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/workflows/build"
)

// manifestOf returns a slipway.yaml declaring n services.
func manifestOf(n int) string {
	var b strings.Builder
	b.WriteString("version: 1\nservices:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: service-%04d\n    context: services/service-%04d\n    port: 8080\n", i, i)
	}
	return b.String()
}

// TestPushGrowsStreamLinearly plans pushes of 20 and of 200 services into a
// real JetStream and measures what each build request adds to the stream:
// the same whatever the number of services, as no request carries the list
// of the others.
func TestPushGrowsStreamLinearly(t *testing.T) {
	perRequest := map[int]float64{}
	for _, n := range []int{20, 200} {
		s := natsjs.MustServer(t)
		_, js := natsjs.MustJetStream(t, s.ClientURL())
		src, pub := tree{"slipway.yaml": manifestOf(n)}, natsjs.NewPublisher(js, "/test")
		h := &build.Handler{
			Config:    build.Config{Registry: "localhost:5000", ClaimTTL: time.Minute},
			Source:    src,
			Publisher: pub,
			Planner:   &build.Planner{Source: src, Publisher: pub},
		}
		if err := h.HandlePush(context.Background(), push("main")); err != nil {
			t.Fatal(err)
		}
		stream, err := js.Stream(context.Background(), natsjs.StreamName)
		if err != nil {
			t.Fatal(err)
		}
		info, err := stream.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs != uint64(n) {
			t.Fatalf("%d services: %d messages in the stream, want %d", n, info.State.Msgs, n)
		}
		perRequest[n] = float64(info.State.Bytes) / float64(n)
		t.Logf("%d services: stream grew by %d bytes, %.0f per build request", n, info.State.Bytes, perRequest[n])
	}
	if ratio := perRequest[200] / perRequest[20]; ratio > 1.05 {
		t.Errorf("a build request of 200 services is %.2f times one of 20 services: the stream grows faster than the services", ratio)
	}
}

// TestPushRefusesTooManyServices: a slipway.yaml past the limit fails the
// commit permanently with the count, and requests no build.
func TestPushRefusesTooManyServices(t *testing.T) {
	h, p := newHandler(t, tree{"slipway.yaml": manifestOf(201)}, &builder{})
	err := h.HandlePush(context.Background(), push("main"))
	if !events.IsPermanent(err) {
		t.Fatalf("HandlePush() error = %v, want permanent", err)
	}
	if n := len(p.OfType(events.TypeBuildRequested)); n != 0 {
		t.Errorf("%d builds requested", n)
	}
	failures := p.OfType(events.TypeBuildFailed)
	if len(failures) != 1 || !strings.Contains(failures[0].(*events.BuildFailed).Reason, "lists 201 services, more than the limit of 200") {
		t.Errorf("failures %+v, want one with the count", failures)
	}
}
