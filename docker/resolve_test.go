package docker_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
)

// A proxy resolves every service of an environment at once after a
// deploy: the calls share the daemon's lists.

// TestResolveAllSharesLists resolves each of n live services of one
// environment at once, through a Target of its own (as the host proxy's
// is), and checks that the daemon answered a few lists, not one per call,
// and that each call got its own service's replicas.
func TestResolveAllSharesLists(t *testing.T) {
	const n = 10
	f := MustFixture(t, docker.Options{HealthTimeout: 10 * time.Second, DrainDelay: time.Millisecond, StopTimeout: 2 * time.Second})
	images := make([]events.Image, n)
	for i := range images {
		images[i] = named(fmt.Sprintf("svc%02d", i), replicated(f.serve, 1+i%2))
	}
	f.MustDeploy(t, f.deployment(dockertest.RandomCommit(), images...))
	rel, err := f.t.Current(f.ctx, f.repo, f.env)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	for _, s := range rel.Services {
		want[s.Name] = s.Addrs
	}
	if len(want) != n {
		t.Fatalf("Current has %d services %v, want %d", len(want), want, n)
	}

	res, lists, err := docker.NewCounting(docker.Options{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	services := append(slices.Sorted(maps.Keys(want)), "absent")
	got, errs := make([][]string, len(services)), make([]error, len(services))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, s := range services {
		wg.Go(func() {
			<-start
			got[i], errs[i] = res.ResolveAll(f.ctx, f.repo, f.env, s)
		})
	}
	close(start)
	wg.Wait()

	// One list is two ContainerList calls (by label and by name); calls
	// arriving while one is answered wait for the next, so a burst costs
	// two lists, three when a goroutine is scheduled late.
	if c := lists.Load(); c > 2*3 {
		t.Errorf("%d concurrent ResolveAll calls made %d ContainerList calls, want at most 6 (one call each made %d)", len(services), c, 2*len(services))
	} else {
		t.Logf("%d concurrent ResolveAll calls made %d ContainerList calls", len(services), c)
	}
	for i, s := range services {
		if s == "absent" {
			wantErr := "resolve " + docker.LiveName(f.repo, f.env, s) + ": "
			if !errors.Is(errs[i], docker.ErrNotLive) || !strings.HasPrefix(errs[i].Error(), wantErr) {
				t.Errorf("ResolveAll(%s) = %v, %v; want an error %q... wrapping ErrNotLive", s, got[i], errs[i], wantErr)
			}
			continue
		}
		if errs[i] != nil || !slices.Equal(got[i], want[s]) {
			t.Errorf("ResolveAll(%s) = %v, %v; want %v", s, got[i], errs[i], want[s])
		}
	}

	// Calls one after another each ask the daemon again: nothing is kept.
	before := lists.Load()
	for range 3 {
		if _, err := res.ResolveAll(f.ctx, f.repo, f.env, "svc00"); err != nil {
			t.Fatal(err)
		}
	}
	if c := lists.Load() - before; c != 3*2 {
		t.Errorf("3 sequential ResolveAll calls made %d ContainerList calls, want 6", c)
	}
}

// TestResolveAllAfterPromotion resolves web without pause through another
// Target, whose lists are answered late, while a deploy replaces it, and
// checks that a call begun once the new container is live
// (Deployment.Promoted) never names the replaced one, still running while
// it drains, though lists begun before the promotion are still being
// answered then.
func TestResolveAllAfterPromotion(t *testing.T) {
	f := MustFixture(t, docker.Options{HealthTimeout: 10 * time.Second, DrainDelay: 500 * time.Millisecond, StopTimeout: 2 * time.Second})
	f.MustDeploy(t, f.deployment(dockertest.RandomCommit(), web(f.serve), named("api", web(f.serve))))
	res, _, err := docker.NewCounting(docker.Options{}, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	old, err := res.ResolveAll(f.ctx, f.repo, f.env, "web")
	if err != nil {
		t.Fatal(err)
	}

	ctx, stop := context.WithCancel(f.ctx)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				res.ResolveAll(ctx, f.repo, f.env, "api")
				res.ResolveAll(ctx, f.repo, f.env, "web")
			}
		})
	}
	var after [][]string
	d := f.deployment(dockertest.RandomCommit(), web(f.serve), named("api", web(f.serve)))
	d.Promoted = func(context.Context) {
		for range 3 {
			addrs, err := res.ResolveAll(f.ctx, f.repo, f.env, "web")
			if err != nil {
				t.Errorf("ResolveAll(web) after the promotion: %v", err)
				return
			}
			after = append(after, addrs)
		}
	}
	f.MustDeploy(t, d)
	stop()
	wg.Wait()

	if len(after) == 0 {
		t.Fatal("the deploy did not tell its promotion")
	}
	for _, addrs := range after {
		if slices.Contains(addrs, old[0]) {
			t.Fatalf("ResolveAll(web) begun after the promotion = %v, names the replaced container at %s", addrs, old[0])
		}
	}
	t.Logf("web moved from %v to %v; %d resolutions after the promotion, none stale", old, after[0], len(after))
}
