package build_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

// barrier is a Builder whose solves all return at the same instant, once n
// of them are running.
type barrier struct {
	n       int
	mu      sync.Mutex
	waiting int
	release chan struct{}
}

func (b *barrier) Build(ctx context.Context, req build.Request) (build.Result, error) {
	b.mu.Lock()
	b.waiting++
	if b.waiting == b.n {
		close(b.release)
	}
	b.mu.Unlock()
	select {
	case <-b.release:
	case <-ctx.Done():
		return build.Result{}, ctx.Err()
	}
	return build.Result{Digest: "sha256:" + fmt.Sprintf("%064d", 1)}, nil
}

// together holds each build-succeeded announcement until both services
// announced theirs, so that both workers look for a complete commit at the
// same instant.
type together struct {
	*workflowstest.Recorder
	b *barrier
}

func (p together) Publish(ctx context.Context, e events.Event) (bool, error) {
	if e.EventType() == events.TypeBuildSucceeded {
		if _, err := p.b.Build(ctx, build.Request{}); err != nil {
			return false, err
		}
	}
	return p.Recorder.Publish(ctx, e)
}

// counting counts the claims taken on commit keys.
type counting struct {
	workflows.Claims
	n *atomic.Int32
}

func (c counting) Claim(ctx context.Context, key string, ttl time.Duration) (workflows.Lease, error) {
	if strings.HasPrefix(key, "built.") {
		c.n.Add(1)
	}
	return c.Claims.Claim(ctx, key, ttl)
}

// TestCommitBuiltOnceWhenServicesFinishTogether: two workers (two claim
// holders on one JetStream) build the two services of a commit; both solves
// return, and both announcements go out, at the same instant, so both
// workers find the commit complete at once. The commit-built event is published once; the loser is
// redelivered, as JetStream would, until it has nothing left to do.
func TestCommitBuiltOnceWhenServicesFinishTogether(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	kv, err := js.KeyValue(context.Background(), natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	var claims atomic.Int32 // commit claims attempted, by both workers
	for round := range 10 {
		sha := fmt.Sprintf("%040x", round+1)
		b := &barrier{n: 2, release: make(chan struct{})}
		announced := &barrier{n: 2, release: make(chan struct{})}
		pubs := []*workflowstest.Recorder{{}, {}}
		var wg sync.WaitGroup
		for i, name := range []string{"web", "api"} {
			h := &build.Handler{
				Config: build.Config{Registry: "localhost:5000", ClaimTTL: time.Minute},
				Source: sources, Builder: b, Publisher: together{pubs[i], announced},
				Claims:  counting{natsstore.NewClaims(kv, fmt.Sprintf("worker-%d", i)), &claims},
				Planner: &build.Planner{Source: sources, Publisher: pubs[i]},
			}
			req := &events.BuildRequested{Repo: repo, Commit: sha, Branch: "main",
				Service: events.ServiceSpec{Name: name, Context: name, Dockerfile: "Dockerfile", Port: 8080}}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for delivery := 1; ; delivery++ {
					err := h.HandleBuild(context.Background(), req)
					if err == nil {
						return
					}
					if events.IsPermanent(err) || delivery == 20 {
						t.Errorf("round %d, %s, delivery %d: %v", round, name, delivery, err)
						return
					}
					time.Sleep(10 * time.Millisecond) // redelivered
				}
			}()
		}
		wg.Wait()
		if n := len(pubs[0].OfType(events.TypeCommitBuilt)) + len(pubs[1].OfType(events.TypeCommitBuilt)); n != 1 {
			t.Fatalf("round %d: %d commit-built events, want 1", round, n)
		}
	}
	if claims.Load() <= 10 {
		t.Errorf("%d commit claims in 10 rounds: the workers never both tried", claims.Load())
	}
	t.Logf("%d attempts on the commit claim in 10 rounds, one commit-built each", claims.Load())
}
