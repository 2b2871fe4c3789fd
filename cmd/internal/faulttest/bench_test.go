package faulttest_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/cmd/internal/faulttest"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// benchCommits is how many commits one burst pushes.
const benchCommits = 16

// BenchmarkChain measures events per second through the whole chain
// (webhook, plan, builds, commit built, deploy requested, deploy or
// superseded) on a cache-hit workload: every commit changes a file outside
// the services' build contexts, so each BuildKit solve is answered from its
// cache. It runs with 1, 2 and 4 builder processes, on one nats-server (R1)
// and a 3-node cluster (R3), with JetStream's default fsync (every 2
// minutes) and with fsync before every acknowledgement (sync: always), and
// measures raw JetStream publishes (synchronous, 1 KiB) on the same servers.
// Run it with -benchtime 1x (go tool task bench); it prints every figure as
// a ratio to R1, default fsync, one builder.
func BenchmarkChain(b *testing.B) {
	results := map[string]float64{}
	for _, replicas := range []int{1, 3} {
		for _, always := range []bool{false, true} {
			name := fmt.Sprintf("R%d/fsync=%s", replicas, map[bool]string{false: "default", true: "always"}[always])
			nodes := faulttest.StartNATSCluster(b, replicas, faulttest.NATSOptions{SyncAlways: always})
			b.Run(name+"/raw-publish", func(b *testing.B) {
				results[name+"/raw-publish"] = rawPublish(b, nodes, replicas)
			})
			for _, builders := range []int{1, 2, 4} {
				key := fmt.Sprintf("%s/builders=%d", name, builders)
				b.Run(key, func(b *testing.B) {
					results[key], results[key+"/build-stage"] = chain(b, nodes, replicas, builders)
				})
			}
		}
	}
	report(b, results)
}

// chain pushes bursts of commits through Slipway and returns events/s
// through the whole chain, and commits/s through the build stage alone
// (first webhook to the last commit-built).
func chain(b *testing.B, nodes []*faulttest.NATS, replicas, builders int) (float64, float64) {
	opts := faulttest.DefaultOptions()
	opts.NATS, opts.Builders, opts.Topology.Replicas = nodes, builders, replicas
	s := faulttest.Start(b, opts)
	warm := s.Push("warm up")
	s.WaitServing(warm.After, 3*time.Minute)
	s.WaitIdle(time.Minute)
	before := streamMsgs(b, s.JS)
	var elapsed, building time.Duration
	for range b.N {
		// The commits are pushed to the git host first; the webhooks then
		// arrive in a burst, as after a merge train.
		var pushes []sample.Push
		for i := range benchCommits {
			s.Write("bench.txt", fmt.Sprintf("%d %d\n", time.Now().UnixNano(), i))
			pushes = append(pushes, s.Commit("bench"))
		}
		b.ResetTimer()
		start := time.Now()
		for _, p := range pushes {
			s.Redeliver(p)
		}
		last := pushes[len(pushes)-1].After
		s.WaitServing(last, 5*time.Minute)
		s.WaitIdle(2 * time.Minute)
		elapsed += time.Since(start)
		building += lastBuilt(b, s).Sub(start)
	}
	b.StopTimer()
	n := streamMsgs(b, s.JS) - before
	rate, built := float64(n)/elapsed.Seconds(), float64(b.N*benchCommits)/building.Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(float64(b.N*benchCommits)/elapsed.Seconds(), "commits/s")
	b.ReportMetric(built, "built-commits/s")
	return rate, built
}

// lastBuilt returns when the last commit-built event was published.
func lastBuilt(tb testing.TB, s *faulttest.Slipway) time.Time {
	envs, err := natsjs.Events(context.Background(), s.JS, events.SubjectCommitBuilt)
	if err != nil || len(envs) == 0 {
		tb.Fatalf("commit-built events: %d, %v", len(envs), err)
	}
	return envs[len(envs)-1].Time
}

// rawPublish publishes 1 KiB messages synchronously, one at a time, to a
// stream of its own, and returns messages per second.
func rawPublish(b *testing.B, nodes []*faulttest.NATS, replicas int) float64 {
	nc, err := nats.Connect(faulttest.URLs(nodes))
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	name := "RAW" + fmt.Sprint(time.Now().UnixNano())
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		if _, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name}, Replicas: replicas, Storage: jetstream.FileStorage}); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = js.DeleteStream(ctx, name) }() // the benchmark's own stream; the server goes with the test
	data := make([]byte, 1024)
	const n = 2000
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		for range n {
			if _, err := js.Publish(ctx, name, data); err != nil {
				b.Fatal(err)
			}
		}
	}
	elapsed := time.Since(start)
	rate := float64(b.N*n) / elapsed.Seconds()
	b.ReportMetric(rate, "msgs/s")
	return rate
}

func streamMsgs(tb testing.TB, js jetstream.JetStream) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, natsjs.StreamName)
	if err != nil {
		tb.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return info.State.Msgs
}

// report prints every result as a ratio to its baseline: R1, default fsync,
// one builder (chains) or R1, default fsync (raw publishes).
func report(b *testing.B, results map[string]float64) {
	keys := make([]string, 0, len(results))
	for k := range results {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out strings.Builder
	fmt.Fprintf(&out, "\n%-52s %18s %6s\n", "run", "rate", "ratio")
	for _, k := range keys {
		base, unit := results["R1/fsync=default/builders=1"], "events/s"
		switch {
		case strings.HasSuffix(k, "raw-publish"):
			base, unit = results["R1/fsync=default/raw-publish"], "msgs/s"
		case strings.HasSuffix(k, "build-stage"):
			base, unit = results["R1/fsync=default/builders=1/build-stage"], "commits/s"
		}
		fmt.Fprintf(&out, "%-52s %8.1f %-9s %6.2f\n", k, results[k], unit, results[k]/base)
	}
	fmt.Print(out.String())
}
