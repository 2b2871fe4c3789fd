package pipeline

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkScale measures, in one run against the shared buildkitd and
// registry, a builder on a generated monorepo of SLIPWAY_BENCH_SERVICES
// services (50 by default): push → commit built for a cold commit with
// -build-workers 1 and with the default (the number of cores), a commit
// changing one service, a docs-only commit, and a commit changing one of
// two services, and prints each as a ratio (go tool task bench-scale).
// Deploys are not part of it: every figure ends at the commit-built event.
// The cold builds are timed twice each way (coldBuilds). It then sends a
// burst of 1,000 webhooks to the receiver (webhookBurst), and times the
// handling of new deploy requests with 100 and 10,000 events recorded
// (measureEventCost).
func BenchmarkScale(b *testing.B) {
	n := 50
	if v, err := strconv.Atoi(os.Getenv("SLIPWAY_BENCH_SERVICES")); err == nil && v > 0 {
		n = v
	}
	services := make([]string, n)
	for i := range services {
		services[i] = fmt.Sprintf("svc%02d", i)
	}
	const step = "wc -c /app/index.txt"
	workers := DefaultConfig().BuildWorkers // the number of cores
	if v, err := strconv.Atoi(os.Getenv("SLIPWAY_BENCH_WORKERS")); err == nil && v > 0 {
		workers = v
	}
	for range b.N {
		// Every change below is unique to its repository (named for the
		// run), so no solve is a hit in BuildKit's cache of an earlier run.
		load0 := loadAvg()
		coldSerial, cold, par := coldBuilds(b, services, workers, step)
		one := timeBuilt(b, par, "1 changed", map[string]string{"services/svc07/index.txt": "changed in " + par.repo.FullName + "\n"})
		docs := timeBuilt(b, par, "docs only", map[string]string{"docs/README.md": "docs\n"})

		pair := newReuseRig(b, services[:2], workers, step)
		timeBuilt(b, pair, "2 services cold", nil)
		oneOfTwo := timeBuilt(b, pair, "1 of 2 changed", map[string]string{"services/svc01/index.txt": "changed in " + pair.repo.FullName + "\n"})
		hooks := webhookBurst(b, pair, 1000)

		fmt.Printf("\n%d services, %d cores, push → commit built (no deploy)\n", n, runtime.NumCPU())
		fmt.Printf("  %-46s %8s   %5.2f×  (solves %d)\n", "cold, -build-workers "+strconv.Itoa(workers)+" vs -build-workers 1", cold.Round(time.Millisecond), ratio(cold, coldSerial), par.solves.started(0))
		fmt.Printf("  %-46s %8s   %5.2f×\n", "1 of "+strconv.Itoa(n)+" changed vs cold", one.Round(time.Millisecond), ratio(one, cold))
		fmt.Printf("  %-46s %8s   %5.2f×\n", "docs only vs cold", docs.Round(time.Millisecond), ratio(docs, cold))
		fmt.Printf("  %-46s %8s   %5.2f×\n", "1 of "+strconv.Itoa(n)+" changed vs 1 of 2 changed", one.Round(time.Millisecond), ratio(one, oneOfTwo))
		fmt.Printf("  (cold -build-workers 1: %s; 1 of 2 changed: %s; load average %s at the start, %s at the end)\n",
			coldSerial.Round(time.Millisecond), oneOfTwo.Round(time.Millisecond), load0, loadAvg())
		fmt.Printf("  %-46s %8s   %5.0f/s  (handled %s; %d distinct stored of %d sent, %d answered duplicate)\n",
			fmt.Sprintf("burst of %d webhooks, %d clients: accepted", hooks.sent, burstClients), hooks.accepted.Round(time.Millisecond),
			float64(hooks.sent)/hooks.accepted.Seconds(), hooks.handled.Round(time.Millisecond), hooks.stored, hooks.sent, hooks.duplicates)
		b.ReportMetric(ratio(cold, coldSerial), "parallel/serial")
		b.ReportMetric(ratio(one, cold), "one/cold")
		b.ReportMetric(ratio(docs, cold), "docs/cold")
		costs := measureEventCost(b, 100, 10000, 31)
		printEventCost(costs)
		b.ReportMetric(ratio(costs.handled[1], costs.handled[0]), "event-10k/100")
	}
}

// coldBuilds times cold builds of services serially (-build-workers 1)
// and with workers (the default, the number of cores, unless
// SLIPWAY_BENCH_WORKERS says otherwise), each on a fresh
// repository of its own content (nothing in BuildKit's cache), after a
// cold build of the same size that is not counted (the first one of a run
// is the slowest: base image, buildkitd's snapshots, the page cache), in
// the order serial, parallel, parallel, serial: a load that grows or
// shrinks during the run weighs on both alike. It returns the sums of each pair
// and the first parallel rig.
func coldBuilds(b *testing.B, services []string, workers int, step string) (serial, parallel time.Duration, first *reuseRig) {
	b.Helper()
	warm := newReuseRig(b, services, workers, step)
	timeBuilt(b, warm, "warm-up (a cold build, not counted)", nil)
	var rigs [4]time.Duration
	for i, w := range []int{1, workers, workers, 1} {
		r := newReuseRig(b, services, w, step)
		rigs[i] = timeBuilt(b, r, fmt.Sprintf("cold #%d, -build-workers %d", i+1, w), nil)
		if i == 1 {
			first = r
		}
	}
	fmt.Printf("\ncold builds, in run order: -build-workers 1 %s, %d %s, %d %s, 1 %s\n", rigs[0].Round(time.Millisecond),
		workers, rigs[1].Round(time.Millisecond), workers, rigs[2].Round(time.Millisecond), rigs[3].Round(time.Millisecond))
	return (rigs[0] + rigs[3]) / 2, (rigs[1] + rigs[2]) / 2, first
}

// loadAvg is the machine's load average over the last minute.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// timeBuilt pushes a commit of files to r and returns how long it took
// until the commit was built.
func timeBuilt(b *testing.B, r *reuseRig, what string, files map[string]string) time.Duration {
	b.Helper()
	start := time.Now()
	sha := r.push(b, what, files)
	r.waitBuilt(b, sha, "")
	took := time.Since(start)
	b.Logf("%s: %s", what, took.Round(time.Millisecond))
	return took
}

func ratio(a, b time.Duration) float64 { return a.Seconds() / b.Seconds() }
