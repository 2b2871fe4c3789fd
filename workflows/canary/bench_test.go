package canary_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/workflows/canary"
)

// BenchmarkCanaryRollback measures, in one run, how long a canary needs to
// detect and roll back a commit answering every other request with a 500
// and how many requests the client saw fail meanwhile, against a plain
// deploy of the same commit over the same time (which nothing rolls back).
// Run with -benchtime=1x.
func BenchmarkCanaryRollback(b *testing.B) {
	f := mustFixture(b)
	old := dockertest.RandomCommit()
	f.mustDeploy(b, old)
	for range b.N {
		load := startClient(f, 4)
		load.waitFor(b, "from the old commit", func(a answer) bool { return a.body == old })
		start := time.Now()
		err := f.target.Deploy(f.ctx, f.deployment(dockertest.RandomCommit(), true, canaryRollout(30*time.Second)))
		took := time.Since(start)
		a := mustRolledBack(b, err)
		canaryN, canaryErr := count(load.halt(), start, start.Add(took))

		load = startClient(f, 4)
		if err := f.target.Deploy(f.ctx, f.deployment(dockertest.RandomCommit(), true, nil)); err != nil {
			b.Fatal(err)
		}
		served := time.Now()
		load.waitFor(b, "a failure of the plain deploy", func(a answer) bool { return a.status == 500 })
		deadline := time.Now().Add(took)
		load.waitFor(b, "as long as the canary took", func(a answer) bool { return a.at.After(deadline) })
		plainN, plainErr := count(load.halt(), served, served.Add(took))
		f.mustDeploy(b, old)

		b.ReportMetric(a.Detected.Seconds(), "canary-detect-s")
		b.ReportMetric(took.Seconds(), "canary-rolled-back-s")
		b.ReportMetric(float64(canaryErr), "canary-client-errors")
		b.ReportMetric(float64(canaryN), "canary-client-requests")
		b.ReportMetric(float64(plainErr), "plain-client-errors")
		b.ReportMetric(float64(plainN), "plain-client-requests")
	}
}

// count returns how many answers came in [from, to] and how many of them
// were not a 200.
func count(answers []answer, from, to time.Time) (n, failed int) {
	for _, a := range answers {
		if a.at.Before(from) || a.at.After(to) {
			continue
		}
		n++
		if a.err != nil || a.status != http.StatusOK {
			failed++
		}
	}
	return n, failed
}

// BenchmarkSplitLatency measures what the proxy adds to a request while it
// splits an environment 50/50: p50 and p99 of sequential requests direct
// to a container, through the proxy without a split and with one. Run with
// -benchtime=1x.
func BenchmarkSplitLatency(b *testing.B) {
	f := mustFixture(b)
	commit := dockertest.RandomCommit()
	f.mustDeploy(b, commit)
	addrs, err := f.t.ResolveAll(f.ctx, f.repo, f.env, "app")
	if err != nil {
		b.Fatal(err)
	}
	const n = 1000
	hc := &http.Client{Timeout: 10 * time.Second}
	direct := "http://" + addrs[0] + "/healthz"
	via := f.proxy.URL + "/healthz"
	for range b.N {
		d50, d99 := latencies(b, hc, direct, "", n)
		p50, p99 := latencies(b, hc, via, f.host(), n)
		shadow := f.deployment(commit, false, nil)
		shadow.Env = canary.ShadowEnv(f.env)
		if err := f.t.Deploy(f.ctx, shadow); err != nil {
			b.Fatal(err)
		}
		if err := f.store.PutSplit(f.ctx, f.repo, f.env, canary.Split{Shadow: shadow.Env, Commit: commit, Weight: 50}); err != nil {
			b.Fatal(err)
		}
		s50, s99 := latencies(b, hc, via, f.host(), n)
		b.ReportMetric(float64(d50.Microseconds()), "direct-p50-µs")
		b.ReportMetric(float64(d99.Microseconds()), "direct-p99-µs")
		b.ReportMetric(float64(p50.Microseconds()), "proxy-p50-µs")
		b.ReportMetric(float64(p99.Microseconds()), "proxy-p99-µs")
		b.ReportMetric(float64(s50.Microseconds()), "split-p50-µs")
		b.ReportMetric(float64(s99.Microseconds()), "split-p99-µs")
	}
}

// latencies sends n sequential GETs of url with host and returns the p50
// and p99 of their latency; every answer must be a 200.
func latencies(b *testing.B, hc *http.Client, url, host string, n int) (p50, p99 time.Duration) {
	b.Helper()
	ds := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if a := request(hc, url, host); a.err != nil || a.status != http.StatusOK {
			b.Fatalf("GET %s: %d %v", url, a.status, a.err)
		}
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	return ds[n/2], ds[n*99/100]
}
