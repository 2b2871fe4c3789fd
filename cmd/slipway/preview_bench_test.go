package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkPreviews measures Slipway's memory with 50 live pull request
// previews on the local Docker against 1 (goal ≤ 2×): `slipway up` runs
// in this process (embedded NATS included) with the sample's web service
// declaring previews; each pull request changes a file no service sees, so
// its head's image is reused (no solve) and its preview is one more
// container. Memory is read once every preview serves, after a GC: the
// process's resident set (VmRSS, test harness included) and the Go heap
// in use. Part of go tool task bench-scale.
//
//	go test -run '^$' -bench 'Previews$' -benchtime 1x ./cmd/slipway
func BenchmarkPreviews(b *testing.B) {
	requireComponents(b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	r := startRig(b, ctx)
	if err := r.s.WriteFile("slipway.yaml", previewManifest(r.tag)); err != nil {
		b.Fatal(err)
	}
	head := r.push(b, ctx, r.s, "Web with previews", "").After
	r.waitWeb(b, ctx, r.stg, head)
	for range b.N {
		r.openPreviews(b, ctx, 1, 1)
		one := memoryNow()
		r.openPreviews(b, ctx, 2, 50)
		fifty := memoryNow()
		fmt.Printf("\nSlipway's memory (slipway up in one process, embedded NATS included), 50 live previews against 1\n")
		fmt.Printf("  %-40s %8.1f MiB vs %8.1f MiB   %5.2f×\n", "resident set (VmRSS)", mib(fifty.rss), mib(one.rss), float64(fifty.rss)/float64(one.rss))
		fmt.Printf("  %-40s %8.1f MiB vs %8.1f MiB   %5.2f×\n", "Go heap in use", mib(fifty.heap), mib(one.heap), float64(fifty.heap)/float64(one.heap))
		fmt.Printf("  %-40s %8d     vs %8d       \n", "goroutines", fifty.goroutines, one.goroutines)
		b.ReportMetric(float64(fifty.rss)/float64(one.rss), "rss-50/1")
		b.ReportMetric(float64(fifty.heap)/float64(one.heap), "heap-50/1")
	}
}

// previewManifest declares the sample's web service alone, a staging
// environment and previews.
func previewManifest(tag string) string {
	return fmt.Sprintf(`version: 1
services:
  - name: web
    context: services/web
    port: 8080
    health: /healthz
environments:
  stg-%[1]s: {}
  pv-%[1]s:
    previews: true
    ttl: 1h
`, tag)
}

// openPreviews opens pull requests from to to (each on a branch of its own
// changing a docs file) and waits until every one's preview serves its head.
func (r *rig) openPreviews(b *testing.B, ctx context.Context, from, to int) {
	b.Helper()
	heads := map[int]string{}
	for n := from; n <= to; n++ {
		branch := "preview-" + strconv.Itoa(n)
		heads[n] = r.branchCommit(b, branch, "docs/"+branch+".md", "preview "+strconv.Itoa(n)+"\n")
		r.prs = append(r.prs, r.prv+"-"+strconv.Itoa(n))
		r.sendPR(b, ctx, "opened", n, heads[n], branch, false)
	}
	for n := from; n <= to; n++ {
		r.waitWeb(b, ctx, r.prv+"-"+strconv.Itoa(n), heads[n])
	}
}

// waitWeb waits until the web service of envName answers with sha.
func (r *rig) waitWeb(b *testing.B, ctx context.Context, envName, sha string) {
	b.Helper()
	if got, err := waitServing(ctx, r.proxy, "web."+envName+".shop.localhost", "web "+sha, 5*time.Minute); err != nil {
		b.Fatalf("%s: web answers %q, want %s: %v", envName, got, sha[:8], err)
	}
}

// memory is what memoryNow read.
type memory struct {
	rss, heap  uint64
	goroutines int
}

// memoryNow returns the process's resident set and Go heap in use after
// a GC that returned what it could to the system.
func memoryNow() memory {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memory{rss: vmRSS(), heap: ms.HeapInuse, goroutines: runtime.NumGoroutine()}
}

// vmRSS is the process's resident set size in bytes, from /proc.
func vmRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }
