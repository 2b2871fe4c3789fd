package pipeline

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
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
	for range b.N {
		serial := newReuseRig(b, services, 1, step)
		coldSerial := timeBuilt(b, serial, "cold, -build-workers 1", nil)

		par := newReuseRig(b, services, runtime.NumCPU(), step)
		cold := timeBuilt(b, par, "cold", nil)
		one := timeBuilt(b, par, "1 changed", map[string]string{"services/svc07/index.txt": "changed\n"})
		docs := timeBuilt(b, par, "docs only", map[string]string{"docs/README.md": "docs\n"})

		pair := newReuseRig(b, services[:2], runtime.NumCPU(), step)
		timeBuilt(b, pair, "2 services cold", nil)
		oneOfTwo := timeBuilt(b, pair, "1 of 2 changed", map[string]string{"services/svc01/index.txt": "changed\n"})

		fmt.Printf("\n%d services, %d cores, push → commit built (no deploy)\n", n, runtime.NumCPU())
		fmt.Printf("  %-46s %8s   %5.2f×  (solves %d)\n", "cold, -build-workers "+strconv.Itoa(runtime.NumCPU())+" vs -build-workers 1", cold.Round(time.Millisecond), ratio(cold, coldSerial), par.solves.started(0))
		fmt.Printf("  %-46s %8s   %5.2f×\n", "1 of "+strconv.Itoa(n)+" changed vs cold", one.Round(time.Millisecond), ratio(one, cold))
		fmt.Printf("  %-46s %8s   %5.2f×\n", "docs only vs cold", docs.Round(time.Millisecond), ratio(docs, cold))
		fmt.Printf("  %-46s %8s   %5.2f×\n", "1 of "+strconv.Itoa(n)+" changed vs 1 of 2 changed", one.Round(time.Millisecond), ratio(one, oneOfTwo))
		fmt.Printf("  (cold -build-workers 1: %s; 1 of 2 changed: %s)\n", coldSerial.Round(time.Millisecond), oneOfTwo.Round(time.Millisecond))
		b.ReportMetric(ratio(cold, coldSerial), "parallel/serial")
		b.ReportMetric(ratio(one, cold), "one/cold")
		b.ReportMetric(ratio(docs, cold), "docs/cold")
	}
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
