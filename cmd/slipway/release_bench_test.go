package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/events"
)

// BenchmarkRollback measures a rollback of staging to a commit against the
// initial deploy of that same commit, both as the deployer records them
// (DeployResult.Duration: pull, start, health checks, swap, drain), and
// reports rollback/initial. The rollback pulls nothing and builds nothing:
// it deploys the digests that ran before. The commit is the second of three
// pushed, so that its initial deploy, like the rollback, replaced a running
// release (swap and drain); each iteration rolls back to it from the third
// (measured) and forward again (not measured). first-ms is the initial
// deploy of the first commit, into an empty environment (nothing to drain).
// push-1of2-ms is the second commit's push until staging serves it: it
// changes web only, but the rig stamps each commit into both images (its
// Dockerfiles use SLIPWAY_COMMIT), so both services are built and
// replaced at every commit, and a rollback revives both.
//
//	go test -run '^$' -bench Rollback -benchtime 5x ./cmd/slipway
func BenchmarkRollback(b *testing.B) {
	requireComponents(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	r := startRig(b, ctx)
	c1 := r.push(b, ctx, r.s, "Add web and api", "").After
	r.waitServingIn(b, ctx, r.stg, c1)
	if err := r.s.WriteFile("services/web/index.txt", "two\n"); err != nil {
		b.Fatal(err)
	}
	pushed := time.Now()
	c2 := r.push(b, ctx, r.s, "Change web", "").After
	r.waitServingIn(b, ctx, r.stg, c2)
	changeOne := time.Since(pushed) // push → staging serving, 1 of 2 services changed
	if err := r.s.WriteFile("services/web/index.txt", "three\n"); err != nil {
		b.Fatal(err)
	}
	c3 := r.push(b, ctx, r.s, "Change web again", "").After
	r.waitServingIn(b, ctx, r.stg, c3)
	r.waitAllIdle(b, ctx)
	initialOf := func(sha string) time.Duration {
		return r.waitFor(b, ctx, events.EnvSubject(events.SubjectDeploySucceeded, sample.RepoName, r.stg), func(ev events.Event) bool {
			return ev.(*events.DeploySucceeded).Commit == sha
		}).(*events.DeploySucceeded).Duration
	}
	first, initial := initialOf(c1), initialOf(c2)

	d := deliberate{Actor: "bench", Wait: 5 * time.Minute}
	var recorded, wall time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		o, err := rollback(ctx, r.up.Conn(), sample.RepoName, r.stg, 0, c2, d, io.Discard)
		wall += time.Since(start)
		if err != nil || o.Outcome != events.OutcomeSucceeded || o.Result == nil {
			b.Fatalf("rollback to %s: %+v, %v", c2[:12], o, err)
		}
		ev, err := o.Result.Decode()
		if err != nil {
			b.Fatal(err)
		}
		recorded += ev.(*events.DeploySucceeded).Duration
		b.StopTimer()
		if _, err := rollback(ctx, r.up.Conn(), sample.RepoName, r.stg, 0, c3, d, io.Discard); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	n := time.Duration(b.N)
	b.ReportMetric(float64(first.Milliseconds()), "first-ms")
	b.ReportMetric(float64(initial.Milliseconds()), "initial-ms")
	b.ReportMetric(float64(changeOne.Milliseconds()), "push-1of2-ms")
	b.ReportMetric(float64((recorded / n).Milliseconds()), "rollback-ms")
	b.ReportMetric(float64((wall / n).Milliseconds()), "rollback-cli-ms")
	b.ReportMetric(float64(recorded/n)/float64(initial), "rollback/initial")
	r.requireEnv(b, ctx, r.stg, c3)
}
