package metrics

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/slipway-dev/slipway/events"
)

// Metrics holds Slipway's collectors in a registry of their own.
type Metrics struct {
	Registry *prometheus.Registry
	webhooks *prometheus.CounterVec
	builds   *prometheus.HistogramVec
	deploys  *prometheus.HistogramVec
}

// durations are the buckets of the build and deploy histograms, in
// seconds: a cached solve to a long build.
var durations = []float64{0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}

// New returns the metrics, registered with the Go and process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "slipway_webhook_requests_total",
			Help: "Webhook requests received, by forge and HTTP status code of the answer."}, []string{"forge", "code"}),
		builds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "slipway_build_duration_seconds",
			Help: "Duration of the builds of one service, by result.", Buckets: durations}, []string{"result"}),
		deploys: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "slipway_deploy_duration_seconds",
			Help: "Duration of deploys to an environment, by kind and result.", Buckets: durations}, []string{"kind", "result"}),
	}
	m.Registry.MustRegister(m.webhooks, m.builds, m.deploys,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Webhooks counts the requests next answers under /webhooks/<forge>; a
// forge not in forges is counted as "unknown".
func (m *Metrics) Webhooks(forges []string, next http.Handler) http.Handler {
	known := map[string]bool{}
	for _, f := range forges {
		known[f] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &status{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		forge := strings.Trim(strings.TrimPrefix(r.URL.Path, "/webhooks/"), "/")
		if !known[forge] {
			forge = "unknown"
		}
		m.webhooks.WithLabelValues(forge, strconv.Itoa(rec.code)).Inc()
	})
}

// status records the status code an answer was given.
type status struct {
	http.ResponseWriter
	code int
}

func (s *status) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// Publisher publishes an event and returns once it is stored (the
// workflows' Publisher).
type Publisher interface {
	Publish(ctx context.Context, e events.Event) (duplicate bool, err error)
}

// Publishing observes the results next publishes: a build's and a
// deploy's duration, once per stored event (a duplicate or a cached
// build's republished result is not a build).
func (m *Metrics) Publishing(next Publisher) Publisher { return &observed{m: m, next: next} }

type observed struct {
	m    *Metrics
	next Publisher
}

func (o *observed) Publish(ctx context.Context, e events.Event) (bool, error) {
	dup, err := o.next.Publish(ctx, e)
	if err == nil && !dup {
		o.m.Observe(e)
	}
	return dup, err
}

// Observe records a result event.
func (m *Metrics) Observe(e events.Event) {
	switch e := e.(type) {
	case *events.BuildSucceeded:
		if !e.Cached {
			m.builds.WithLabelValues("succeeded").Observe(e.Duration.Seconds())
		}
	case *events.BuildFailed:
		if e.Service != "" {
			m.builds.WithLabelValues("failed").Observe(e.Duration.Seconds())
		}
	default:
		if r, ok := events.ResultOf(e); ok {
			m.deploys.WithLabelValues(r.Kind.String(), r.Outcome.String()).Observe(r.Duration.Seconds())
		}
	}
}
