package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/buildkit/buildkittest"
	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
)

// privatePath is what the private path of BenchmarkPushToStagingPrivate
// adds to the public one. Today: the private TLS registry with htpasswd
// (privateRig). Hook: a private git repository and a secret are added
// here as further configure functions (and, if they need it, a prepare
// step on the sample), so the figure keeps comparing one whole private
// setup with the public one in the same run.
func privatePath(tb testing.TB, rig *privateRig) []func(*pipeline.Config) {
	tb.Helper()
	return []func(*pipeline.Config){
		rig.configure(tb, rig.p.Password),
		// private git repository: add its configure function here
		// secret: add its configure function here
	}
}

// BenchmarkPushToStagingPrivate measures, in one run, a push of the sample
// monorepo until both services serve the new commit on staging, through
// the public path (the plain-HTTP registry of setup.sh, no credentials)
// and through the private path (privatePath: a Distribution registry with
// TLS under a test CA and htpasswd, pushed to under one name and pulled
// from under another), and reports private/public per kind ("cold"
// rebuilds a RUN layer, "warm" only the last COPY). Each path builds on a
// buildkitd of the benchmark's own, configured alike (the private one also
// trusts the CA), so that the registry is the one difference; one
// buildkitd serving both paths failed a push with Distribution 2.8's
// "provided digest did not match uploaded content" in one run. Goal: at
// most 1.1.
//
//	go test -run '^$' -bench PushToStagingPrivate -benchtime 3x ./cmd/slipway
func BenchmarkPushToStagingPrivate(b *testing.B) {
	requireComponents(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	rig := mustPrivateRig(b)
	public := buildkittest.MustOwnBuildkitd(b, "").Addr
	paths := map[string]*env{
		"public":  startSlipwayWith(b, ctx, func(c *pipeline.Config) { c.BuildkitHost = public }, nil),
		"private": startSlipwayWith(b, ctx, all(privatePath(b, rig)), nil),
	}
	samples := map[string]*sample.Sample{}
	for name, e := range paths {
		s := mustSample(b, ctx)
		samples[name] = s
		p := e.push(b, ctx, s, "Warm up", "")
		e.waitServing(b, ctx, p.After)
		e.waitIdle(b, ctx)
	}
	total := map[string]time.Duration{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, kind := range []string{"cold", "warm"} {
			for _, name := range []string{"public", "private"} {
				e, s := paths[name], samples[name]
				change(b, s, kind, fmt.Sprintf("%s-%s-%d-%d", name, kind, i, time.Now().UnixNano()))
				start := time.Now()
				p := e.push(b, ctx, s, "bench "+kind, "")
				e.waitServing(b, ctx, p.After)
				total[name+"-"+kind] += time.Since(start)
				b.StopTimer()
				e.waitIdle(b, ctx)
				b.StartTimer()
			}
		}
	}
	b.StopTimer()
	for k, v := range total {
		b.ReportMetric(float64(v.Milliseconds())/float64(b.N), k+"-ms/op")
	}
	for _, kind := range []string{"cold", "warm"} {
		ratio := float64(total["private-"+kind]) / float64(total["public-"+kind])
		b.ReportMetric(ratio, "private/public-"+kind)
		b.Logf("push → staging serving, %s: private %s, public %s, ratio %.2f× (goal ≤ 1.1×)", kind,
			total["private-"+kind]/time.Duration(b.N), total["public-"+kind]/time.Duration(b.N), ratio)
	}
}

// all applies every configure function in order.
func all(fns []func(*pipeline.Config)) func(*pipeline.Config) {
	return func(c *pipeline.Config) {
		for _, f := range fns {
			f(c)
		}
	}
}
