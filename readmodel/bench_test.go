package readmodel_test

import (
	"context"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// fill folds n deploy results of env straight into the read model, at
// stream positions from *seq on.
func fill(tb testing.TB, b *bus, env string, n int, seq *uint64) {
	tb.Helper()
	ctx := context.Background()
	for i := range n {
		_, res := deployOf(env, i, events.OutcomeSucceeded, events.KindAuto)
		e, err := events.NewEnvelope(res, "/bench", time.Now())
		if err != nil {
			tb.Fatal(err)
		}
		*seq++
		if err := b.m.Project(natsjs.WithStored(ctx, natsjs.Stored{Seq: *seq, Subject: res.Subject()}), e); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkHistory times the query behind `slipway history` (its default
// of the last 50 deploys) on an environment with 100 deploys and on one
// with 10,000, in the same run; ratio is large/small.
func BenchmarkHistory(b *testing.B) {
	bus := mustBus(b, natsjs.DefaultTopology())
	var seq uint64
	fill(b, bus, "small", 100, &seq)
	fill(b, bus, "large", 10_000, &seq)
	ctx := context.Background()
	var small, large time.Duration
	b.ResetTimer()
	for b.Loop() {
		for _, q := range []struct {
			env string
			sum *time.Duration
		}{{"small", &small}, {"large", &large}} {
			start := time.Now()
			d, err := bus.m.LastDeploys(ctx, repo.FullName, q.env, 50)
			*q.sum += time.Since(start)
			if err != nil || len(d) != 50 {
				b.Fatalf("%s: %d deploys, %v", q.env, len(d), err)
			}
		}
	}
	b.ReportMetric(float64(small.Nanoseconds())/float64(b.N), "ns/100-deploys")
	b.ReportMetric(float64(large.Nanoseconds())/float64(b.N), "ns/10000-deploys")
	b.ReportMetric(float64(large)/float64(small), "ratio")
}

// BenchmarkProjector times folding one deploy result into the read model
// against publishing it to the stream, in the same run; ratio is
// fold/publish.
func BenchmarkProjector(b *testing.B) {
	bus := mustBus(b, natsjs.DefaultTopology())
	ctx := context.Background()
	var publish, fold time.Duration
	i := 0
	for b.Loop() {
		req, _ := deployOf("staging", i, events.OutcomeSucceeded, events.KindAuto)
		req.Nonce = events.KindRelease.Nonce(time.Now().Format("150405.000000000"))
		res := req.Result(events.OutcomeSucceeded, "", time.Now()).Event()
		i++
		e, err := events.NewEnvelope(res, "/bench", time.Now())
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		ack, err := bus.js.PublishMsg(ctx, natsjs.EncodeMsg(res.Subject(), e))
		publish += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		err = bus.m.Project(natsjs.WithStored(ctx, natsjs.Stored{Seq: ack.Sequence, Subject: res.Subject()}), e)
		fold += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(publish.Nanoseconds())/float64(b.N), "ns/publish")
	b.ReportMetric(float64(fold.Nanoseconds())/float64(b.N), "ns/fold")
	b.ReportMetric(float64(fold)/float64(publish), "ratio")
}
