package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/readmodel"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/release"
)

// eventRig is a deployer's handling of deploy requests against an
// embedded NATS holding a history of prior events: the deploy workflow as
// the deployer wires it (claims, environment lock, request queue, state
// record, result published) and the read model's projector, with a target
// that records the release in memory (the container start is left out: it
// is the same at any length of history, and measured elsewhere).
type eventRig struct {
	ctx  context.Context
	conn *Conn
	h    *deploy.Handler
	m    *readmodel.Model
	pub  *natsjs.Publisher
	repo events.Repo
	next int
}

// newEventRig starts a rig whose stream and read model hold prior events
// (pushes, deploy requests and their results, folded).
func newEventRig(b *testing.B, prior int) *eventRig {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	ctx = zerolog.New(io.Discard).WithContext(ctx)
	cfg := DefaultConfig()
	cfg.MirrorDir = b.TempDir()
	s := natsjs.MustServer(b)
	c, err := Dial(ctx, s.ClientURL(), "events-bench", cfg.Topology)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.NC.Close)
	h, err := DeployHandler(ctx, &cfg, c, &memoryTarget{live: map[string]deploy.Release{}})
	if err != nil {
		b.Fatal(err)
	}
	m, err := c.ReadModel(ctx)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- RunProjector(ctx, &cfg, c) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			b.Errorf("projector: %v", err)
		}
	})
	r := &eventRig{ctx: ctx, conn: c, h: h, m: m, pub: natsjs.NewPublisher(c.JS, "/bench"),
		repo: events.Repo{Forge: "github", FullName: "acme/history", DefaultBranch: "main"}}
	r.seed(b, prior)
	return r
}

// seed publishes n events, for each commit its push, a deploy request and
// its result, and waits until the projector folded them.
func (r *eventRig) seed(b *testing.B, n int) {
	b.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n/3; i += 8 {
				req := r.request(i)
				res := req.Result(events.OutcomeSucceeded, "", time.Now())
				for _, e := range []events.Event{r.push(i), req, res.Event()} {
					if _, err := r.pub.Publish(r.ctx, e); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	r.next = n / 3
	r.caughtUp(b)
}

// push is the push of commit i to the default branch.
func (r *eventRig) push(i int) *events.PushReceived {
	return &events.PushReceived{Repo: r.repo, Ref: "refs/heads/main", Branch: "main", Before: fmt.Sprintf("%040x", i), After: fmt.Sprintf("%040x", i+1), ReceivedAt: time.Now()}
}

// request is a release of commit i to production: deliberate, so that it
// is applied in its order without asking git (no repository behind it).
func (r *eventRig) request(i int) *events.DeployRequested {
	sha := fmt.Sprintf("%040x", i+1)
	req := &events.DeployRequested{Env: "production", Repo: r.repo, Commit: sha,
		Images: []events.Image{{Service: events.ServiceSpec{Name: "web", Port: 8080}, Ref: "localhost:5000/acme/history/web:" + sha, Digest: "sha256:" + fmt.Sprintf("%064x", i+1)}}}
	return req.Ask(events.KindRelease, "bench", "ada", strconv.Itoa(i))
}

func (r *eventRig) caughtUp(b *testing.B) {
	b.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, 5*time.Minute)
	defer cancel()
	if _, err := readmodel.CaughtUp(ctx, r.conn.JS, ConsumerReadModel); err != nil {
		b.Fatal(err)
	}
}

// handleOne publishes a new deploy request, hands it to the deploy
// workflow as the deployer's consumer does, waits until the read model
// shows the environment running it, and checks a release of it as a
// release plan does, and as it did before (from the environment's whole
// history). It returns the time each took.
func (r *eventRig) handleOne(b *testing.B) (handled, projected, checked, scanned time.Duration) {
	b.Helper()
	if _, err := r.pub.Publish(r.ctx, r.push(r.next)); err != nil {
		b.Fatal(err)
	}
	req := r.request(r.next)
	r.next++
	start := time.Now()
	if _, err := r.pub.Publish(r.ctx, req); err != nil {
		b.Fatal(err)
	}
	if err := r.h.HandleDeploy(r.ctx, req); err != nil {
		b.Fatal(err)
	}
	handled = time.Since(start)
	for {
		env, err := r.m.Env(r.ctx, r.repo.FullName, "production")
		if err == nil && env.Commit == req.Commit {
			break
		}
		if time.Since(start) > time.Minute {
			b.Fatalf("read model: production not at %s after a minute (%v)", req.Commit[:8], err)
		}
		time.Sleep(time.Millisecond)
	}
	projected = time.Since(start)
	t0 := time.Now()
	if err := release.StagingHealthy(r.ctx, r.m, r.repo.FullName, "production", req.Commit); err != nil {
		b.Fatalf("release check of %s: %v", req.Commit[:8], err)
	}
	checked = time.Since(t0)
	t0 = time.Now()
	deploys, err := r.m.Deploys(r.ctx, r.repo.FullName, "production")
	if err == nil {
		err = release.CheckHealthy(deploys, "production", req.Commit)
	}
	if err != nil {
		b.Fatalf("release check of %s from the history: %v", req.Commit[:8], err)
	}
	return handled, projected, checked, time.Since(t0)
}

// eventCosts are the medians of handling new events at two lengths of
// history.
type eventCosts struct {
	small, large                         int
	handled, projected, checked, scanned [2]time.Duration
}

// measureEventCost handles rounds new events on a rig of small and one of
// large prior events, alternately, and returns the medians.
func measureEventCost(b *testing.B, small, large, rounds int) eventCosts {
	b.Helper()
	rigs := [2]*eventRig{newEventRig(b, small), newEventRig(b, large)}
	var h, p, c, sc [2][]time.Duration
	for i := range rounds {
		for k := range rigs {
			k = (k + i) % 2 // alternate which goes first
			hd, pd, cd, sd := rigs[k].handleOne(b)
			h[k], p[k], c[k], sc[k] = append(h[k], hd), append(p[k], pd), append(c[k], cd), append(sc[k], sd)
		}
	}
	out := eventCosts{small: small, large: large}
	for k := range rigs {
		out.handled[k], out.projected[k], out.checked[k], out.scanned[k] = median(h[k]), median(p[k]), median(c[k]), median(sc[k])
	}
	return out
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// memoryTarget runs nothing: it records each environment's release.
type memoryTarget struct {
	mu   sync.Mutex
	live map[string]deploy.Release
}

var _ deploy.Target = (*memoryTarget)(nil)

func (t *memoryTarget) Current(_ context.Context, repo, env string) (deploy.Release, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.live[events.EnvKey(repo, env)], nil
}

func (t *memoryTarget) Deploy(_ context.Context, d deploy.Deployment) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	rel := deploy.Release{Env: d.Env}
	for _, img := range d.Images {
		rel.Services = append(rel.Services, deploy.ServiceState{Name: img.Service.Name, Commit: d.Commit, Digest: img.Digest, Running: true, Addr: "127.0.0.1:1"})
	}
	t.live[events.EnvKey(d.Repo, d.Env)] = rel
	if d.Promoted != nil {
		d.Promoted(context.Background())
	}
	return nil
}

// BenchmarkEventCost is the per-event part of BenchmarkScale alone.
func BenchmarkEventCost(b *testing.B) {
	for range b.N {
		printEventCost(measureEventCost(b, 100, 10000, 15))
	}
}

func printEventCost(e eventCosts) {
	fmt.Printf("\nper-event handling, %d against %d events recorded (median of new deploy requests)\n", e.large, e.small)
	for _, row := range []struct {
		what string
		d    [2]time.Duration
	}{{"deploy handled (claim, lock, order, state, result)", e.handled}, {"… and projected into the read model", e.projected}, {"release check of the commit (read model)", e.checked},
		{"  (before: the same from the whole history)", e.scanned}} {
		fmt.Printf("  %-52s %8s vs %8s   %5.2f×\n", row.what, row.d[1].Round(10*time.Microsecond), row.d[0].Round(10*time.Microsecond), ratio(row.d[1], row.d[0]))
	}
}
