package docker

import (
	"context"
	"time"
)

// drainPoll is how often a drain asks the Drainer about the addresses it
// waits for.
const drainPoll = 10 * time.Millisecond

// Drainer knows which addresses still have requests in flight: the proxy in
// front of the target (proxy.Flights). Retire tells it addr was replaced,
// so that it stops sending new requests there at once; Idle reports whether
// addr has none in flight and no fresh route will send it new ones.
type Drainer interface {
	Retire(addr string)
	Idle(addr string) bool
}

// drain waits until the replaced containers ids are drained: with a
// Drainer, until it reports every one's address idle, at most DrainDelay;
// without one, DrainDelay.
func (t *Target) drain(ctx context.Context, ids []string) {
	bound := time.NewTimer(t.opts.DrainDelay)
	defer bound.Stop()
	if t.opts.Drainer == nil {
		<-bound.C
		return
	}
	addrs := t.addrsOf(ctx, ids)
	for _, a := range addrs {
		t.opts.Drainer.Retire(a)
	}
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	for {
		idle := true
		for _, a := range addrs {
			idle = idle && t.opts.Drainer.Idle(a)
		}
		if idle {
			return
		}
		select {
		case <-bound.C:
			return
		case <-tick.C:
		}
	}
}

// addrsOf returns the published addresses of the containers ids; a
// container that cannot be inspected has none to wait for.
func (t *Target) addrsOf(ctx context.Context, ids []string) []string {
	var addrs []string
	for _, id := range ids {
		info, err := t.cli.ContainerInspect(ctx, id)
		if err != nil {
			continue
		}
		if a, err := publishedAddr(info); err == nil {
			addrs = append(addrs, a)
		}
	}
	return addrs
}
