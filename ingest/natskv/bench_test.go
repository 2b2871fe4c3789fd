package natskv

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/ingest"
)

// benchClients is how many deliveries are deduplicated at once, as many as
// the receiver's benchmark keeps in flight.
const benchClients = 16

// BenchmarkDeliveries measures what deduplicating a new delivery costs the
// receiver (Seen, then Record) with this store and with natsjs.Deliveries
// (a look-up in the bucket, then a put), against a bare put of the key, in
// the same run on an embedded NATS server, e.g.
//
//	go test -run='^$' -bench=Deliveries -benchtime=30000x ./ingest/natskv
//
// b.N is the number of deliveries per side. Metrics: deliveries per second
// of each side and its ratio to the bare put.
func BenchmarkDeliveries(b *testing.B) {
	ctx := context.Background()
	_, js := natsjs.MustJetStream(b, natsjs.MustServer(b).ClientURL())
	kv, err := js.KeyValue(ctx, natsjs.BucketDeliveries)
	if err != nil {
		b.Fatal(err)
	}
	d, err := NewDeliveries(ctx, kv)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(d.Close)
	sides := []struct {
		name string
		op   func(id string) error
	}{
		{"put", func(id string) error {
			_, err := kv.Put(ctx, natsjs.DeliveryKey("github", id), nil)
			return err
		}},
		{"natskv", dedup(ctx, d)},
		{"lookup", dedup(ctx, natsjs.NewDeliveries(kv))},
	}
	var seq atomic.Uint64
	rates := make([]float64, len(sides))
	b.ResetTimer()
	// Alternate the sides over rounds so that the bucket's growth and the
	// machine's state weigh on all alike.
	const rounds = 3
	for range rounds {
		for i, s := range sides {
			rates[i] += rate(b, b.N/rounds, func() error { return s.op(fmt.Sprintf("bench-%d", seq.Add(1))) }) / rounds
		}
	}
	b.StopTimer()
	for i, s := range sides {
		b.ReportMetric(rates[i], s.name+"/s")
		b.ReportMetric(rates[i]/rates[0], s.name+"-ratio")
	}
}

// dedup is what the receiver does with the deliveries store for a new
// delivery.
func dedup(ctx context.Context, d ingest.Deliveries) func(string) error {
	return func(id string) error {
		if seen, err := d.Seen(ctx, "github", id); err != nil || seen {
			return fmt.Errorf("new delivery seen %v: %v", seen, err)
		}
		return d.Record(ctx, "github", id)
	}
}

// rate runs op n times from benchClients goroutines and returns the
// operations per second.
func rate(b *testing.B, n int, op func() error) float64 {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range benchClients {
		wg.Go(func() {
			for int(next.Add(1)) <= n {
				if err := op(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}
