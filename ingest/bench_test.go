package ingest

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/forge"
	"github.com/slipway-dev/slipway/ingest/natsstream"
)

// benchClients is how many deliveries the load generator keeps in flight.
const benchClients = 16

// BenchmarkIngest compares, in the same run and with the same load
// generator, the receiver (verify against the secrets of benchRepos
// repositories, parse, delivery look-up in memory,
// publish of the event carrying the delivery record) with a bare net/http handler that publishes the
// raw body to the same JetStream stream with no checks, for a signed ~7.7 KB
// GitHub push, each request a new delivery of a new commit. A third side is
// the receiver without its delivery store, to show what the durable dedup
// of deliveries costs. It also measures JetStream's publish rate without HTTP. Run it with
// a fixed count, e.g.
//
//	go test -run='^$' -bench=Ingest -benchtime=6000x ./ingest
//
// b.N is the number of requests per side. Metrics: requests per second and
// p50/p99 latency of each side, ratio (ingest/raw, goal >= 0.8), and the raw
// publish rate.
func BenchmarkIngest(b *testing.B) {
	srv := natsjs.MustServer(b)
	_, js := natsjs.MustJetStream(b, srv.ClientURL())
	deliveries, err := natsstream.NewDeliveries(context.Background(), js, natsjs.NewPublisher(js, "/slipway/ingest"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(deliveries.Close)
	sides := []*benchSide{
		{name: "raw", url: mustServe(b, rawHandler(js)) + "/raw"},
		{name: "ingest", url: mustServe(b, benchHandler(b, js, deliveries)) + "/webhooks/github"},
		{name: "ingest-noindex", url: mustServe(b, benchHandler(b, js, nil)) + "/webhooks/github"},
	}
	gen := newPushGenerator(b)
	b.Logf("body %d bytes, %d clients, %d requests per side", len(gen.body), benchClients, b.N)
	b.ResetTimer()
	// Rotate the order of the sides over rounds so that the growth of the
	// stream and the machine's state weigh on all alike.
	const rounds = 6
	for r := range rounds {
		n := b.N / rounds
		if r == rounds-1 {
			n = b.N - n*(rounds-1)
		}
		for i := range sides {
			if n > 0 {
				sides[(i+r)%len(sides)].run(b, gen, n)
			}
		}
	}
	pubRate := publishRate(b, js, gen.body, b.N)
	b.StopTimer()

	raw := sides[0].rps()
	for _, s := range sides {
		b.ReportMetric(s.rps(), s.name+"-req/s")
		b.ReportMetric(ms(percentile(s.lat, 50)), s.name+"-p50-ms")
		b.ReportMetric(ms(percentile(s.lat, 99)), s.name+"-p99-ms")
	}
	b.ReportMetric(sides[1].rps()/raw, "ratio")
	b.ReportMetric(sides[2].rps()/raw, "ratio-noindex")
	b.ReportMetric(pubRate, "js-pub/s")
}

// benchSide is one server under load and what was measured of it.
type benchSide struct {
	name, url string
	lat       []time.Duration
	took      time.Duration
}

func (s *benchSide) run(b *testing.B, gen *pushGenerator, n int) {
	lat, d := load(b, s.url, gen, n)
	s.lat, s.took = append(s.lat, lat...), s.took+d
}

func (s *benchSide) rps() float64 { return float64(len(s.lat)) / s.took.Seconds() }

func mustServe(b *testing.B, h http.Handler) string {
	ts := httptest.NewServer(h)
	b.Cleanup(ts.Close)
	return ts.URL
}

// benchRepos is how many repositories the benchmarked receiver has secrets
// for; the deliveries go to each in turn, each signed with its own secret,
// and are verified before their body is decoded.
const benchRepos = 10

// benchRepo is the name and secret of the i-th benchmarked repository.
func benchRepo(i int) (string, []byte) {
	return fmt.Sprintf("acme/service-%d", i), []byte(fmt.Sprintf("secret-of-service-%d-never-logged", i))
}

// benchHandler is the receiver as the pipeline builds it, with benchRepos
// configured repositories, logging one line per delivery to nowhere.
func benchHandler(b *testing.B, js jetstream.JetStream, deliveries Deliveries) http.Handler {
	cfg := Config{Secrets: map[string][][]byte{}, DefaultBranch: "main"}
	for i := range benchRepos {
		name, secret := benchRepo(i)
		cfg.Secrets[name] = [][]byte{secret}
	}
	h, err := NewHandler(cfg, MustForges(b), natsjs.NewPublisher(js, "/slipway/ingest"), deliveries)
	if err != nil {
		b.Fatal(err)
	}
	log := zerolog.New(io.Discard)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(log.WithContext(r.Context())))
	})
}

// rawHandler is the baseline: read the body, publish it, answer 202.
func rawHandler(js jetstream.JetStream) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if _, err := js.PublishMsg(r.Context(), &nats.Msg{Subject: "slipway.bench.raw", Data: body}); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"status":"accepted"}` + "\n"))
	})
}

// pushGenerator makes GitHub push deliveries of a new commit each, signed.
type pushGenerator struct {
	body  []byte // compact push payload
	after []byte // the after commit id inside body
	seq   atomic.Uint64
}

func newPushGenerator(tb testing.TB) *pushGenerator {
	tb.Helper()
	var compact bytes.Buffer
	if err := json.Compact(&compact, forgetestRead(tb, "../forge/github/testdata/push-branch-1commit.json")); err != nil {
		tb.Fatal(err)
	}
	return &pushGenerator{body: compact.Bytes(), after: []byte(`"after":"e238171456e973f696a972b80599a849db5fe540"`)}
}

// next returns a delivery of a push of a commit no other delivery named, to
// the next of the benchRepos repositories.
func (g *pushGenerator) next() (body []byte, header http.Header) {
	i := g.seq.Add(1)
	sha := fmt.Sprintf("%040x", i)
	repo, secret := benchRepo(int(i % benchRepos))
	body = bytes.Replace(g.body, g.after, []byte(`"after":"`+sha+`"`), 1)
	body = bytes.Replace(body, []byte(`"full_name":"ailisp/gcbapp-buildconfig-example"`), []byte(`"full_name":"`+repo+`"`), 1)
	header = http.Header{}
	header.Set("Content-Type", "application/json")
	header.Set("X-GitHub-Event", "push")
	header.Set("X-GitHub-Delivery", fmt.Sprintf("bench-%d", i))
	header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(forge.SignHMACSHA256(body, secret)))
	return body, header
}

// load sends n deliveries to url from benchClients concurrent clients and
// returns each request's latency and the wall time taken.
func load(b *testing.B, url string, gen *pushGenerator, n int) ([]time.Duration, time.Duration) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients, MaxConnsPerHost: benchClients}}
	defer client.CloseIdleConnections()
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range benchClients {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				body, header := gen.next()
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header = header
				t0 := time.Now()
				res, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				lat[i] = time.Since(t0)
				if err != nil || res.StatusCode != http.StatusAccepted {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	d := time.Since(start)
	if f := failed.Load(); f > 0 {
		b.Fatalf("%s: %d of %d requests failed", url, f, n)
	}
	return lat, d
}

// publishRate is how many ~7.7 KB messages per second benchClients
// publishers store in the stream, each waiting for its acknowledgement.
func publishRate(b *testing.B, js jetstream.JetStream, body []byte, n int) float64 {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range benchClients {
		wg.Go(func() {
			for int(next.Add(1)) <= n {
				if _, err := js.PublishMsg(ctx, &nats.Msg{Subject: "slipway.bench.js", Data: body}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
