package faulttest_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/faulttest"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/manifest"
)

// TestFaultLongBuild: a build lasting more than ten times the consumer's
// AckWait (1s) stays with its worker, kept by in-progress acks, although a
// second builder is idle: it is delivered once and runs once.
func TestFaultLongBuild(t *testing.T) {
	opts := faulttest.DefaultOptions()
	opts.Builders, opts.Topology.AckWait = 2, time.Second
	s := faulttest.Start(t, opts)
	slowBuild(s, "web", 11*time.Second)
	p := s.Push("slow web")
	s.WaitServing(p.After, 3*time.Minute)
	s.WaitIdle(time.Minute)
	r := s.Check(faulttest.Want{Final: p.After})
	if n := r.Started[p.After[:12]+"/web"]; n != 1 {
		t.Errorf("the web build was leased %d times: the message left its worker", n)
	}
	if took := s.BuildTook(p.After, "web"); took < 10*opts.Topology.AckWait {
		t.Errorf("the web build took %s from request to success, want at least 10× AckWait", took)
	} else {
		t.Logf("the web build took %s = %.1f× AckWait, leased once", took.Round(time.Millisecond), took.Seconds()/opts.Topology.AckWait.Seconds())
	}
}

// TestFaultBuilderKilledMidBuild: kill -9 of the builder running a build;
// once its lease expires, another builder takes the build over, and the
// commit is built and deployed once.
func TestFaultBuilderKilledMidBuild(t *testing.T) {
	opts := faulttest.DefaultOptions()
	opts.Builders, opts.Topology.AckWait = 2, time.Second
	s := faulttest.Start(t, opts)
	slowBuild(s, "web", 8*time.Second)
	p := s.Push("slow web")
	victim := s.WaitBuilding(p.After, "web", 2*time.Minute)
	victim.Kill()
	t.Logf("killed %s mid-build, while buildkitd solved its build", victim.Name)
	s.WaitServing(p.After, 3*time.Minute)
	s.WaitIdle(time.Minute)
	// A builder takes every build request of the commit at once (parallel
	// builds, -build-workers), so the kill cuts api's lease short too: both
	// may start twice, and each is still solved once.
	s.Check(faulttest.Want{Final: p.After, Rerun: []string{p.After[:12] + "/web", p.After[:12] + "/api"}})
}

// TestFaultTwoEventsForOneSHA delivers, at the same instant, the push of one
// commit through the webhook and as a second event under another id, and
// each of its build requests twice under other ids, to two builders: one
// BuildKit solve per service, one commit-built, one deploy.
func TestFaultTwoEventsForOneSHA(t *testing.T) {
	opts := faulttest.DefaultOptions()
	opts.Builders = 2
	s := faulttest.Start(t, opts)
	slowBuild(s, "web", 3*time.Second)
	p := s.Commit("one commit, many events")
	repo := events.Repo{Forge: "github", FullName: sample.RepoName, CloneURL: p.CloneURL, DefaultBranch: "main"}
	evs := []events.Event{&events.PushReceived{Repo: repo, Ref: "refs/heads/main", Branch: "main", Before: p.Before, After: p.After}}
	specs := services(t)
	for _, spec := range specs {
		evs = append(evs, &events.BuildRequested{Repo: repo, Commit: p.After, Branch: "main", Service: spec})
	}
	pub := natsjs.NewPublisher(s.JS, "/faulttest")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.Redeliver(p) }()
	for _, e := range evs {
		for _, copy := range []string{"a", "b"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				env, _ := events.NewEnvelope(e, "/faulttest", time.Now())
				env.ID += ".copy-" + copy
				if _, err := pub.PublishEnvelope(context.Background(), e.Subject(), env); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	s.WaitServing(p.After, 3*time.Minute)
	s.WaitIdle(time.Minute)
	s.Check(faulttest.Want{Final: p.After})
	reqs, err := natsjs.Events(context.Background(), s.JS, events.SubjectBuildRequested)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) < 2*len(specs) {
		t.Errorf("%d build requests stored, want at least %d (two per service)", len(reqs), 2*len(specs))
	}
	t.Logf("%d build requests for %d services stored and handled: one solve each", len(reqs), len(specs))
}

// services returns the sample's services as the builder plans them.
func services(t *testing.T) []events.ServiceSpec {
	b, err := os.ReadFile(filepath.Join(faulttest.Root(), "cmd", "internal", "sample", "shop", "slipway.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return m.Services()
}
