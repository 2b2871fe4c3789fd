package metrics

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

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
	locks    *prometheus.HistogramVec
	proxied  *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	mu      sync.Mutex
	proxies map[envKey]bool // the environments the proxy series name
}

// envKey names an environment of a repository.
type envKey struct{ repo, env string }

// durations are the buckets of the build and deploy histograms, in
// seconds: a cached solve to a long build.
var durations = []float64{0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}

// lockWaits are the buckets of the lock waits, in seconds: none to a
// deploy waiting out another.
var lockWaits = []float64{0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300}

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
		locks: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "slipway_deploy_lock_wait_seconds",
			Help: "Time a deploy waited for its environment's lock, by environment (previews as one).", Buckets: lockWaits}, []string{"env"}),
		proxied: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "slipway_proxy_requests_total",
			Help: "Requests the proxy answered, by repository, environment, service and class of the status code (2xx, 5xx)."},
			[]string{"repo", "env", "service", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "slipway_proxy_request_duration_seconds",
			Help: "Duration of the requests the proxy answered, by repository, environment and service.", Buckets: prometheus.DefBuckets},
			[]string{"repo", "env", "service"}),
	}
	m.Registry.MustRegister(m.webhooks, m.builds, m.deploys, m.locks, m.proxied, m.latency,
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

// LockWaited implements deploy.LockObserver.
func (m *Metrics) LockWaited(env string, waited time.Duration) {
	m.locks.WithLabelValues(env).Observe(waited.Seconds())
}

// Proxied implements proxy.Observer: the code is counted by its class,
// so a service answering every status makes five series at most.
func (m *Metrics) Proxied(repo, env, service string, code int, took time.Duration) {
	class := "other"
	if code >= 100 && code < 600 {
		class = strconv.Itoa(code/100) + "xx"
	}
	m.mu.Lock()
	if m.proxies == nil {
		m.proxies = map[envKey]bool{}
	}
	m.proxies[envKey{repo, env}] = true
	m.proxied.WithLabelValues(repo, env, service, class).Inc()
	m.latency.WithLabelValues(repo, env, service).Observe(took.Seconds())
	m.mu.Unlock()
}

// forgetGone deletes the proxy series of the environments live does not
// hold (a removed preview): their names come and go with pull requests,
// and the series of a gone one would stay for the life of the process.
// The series of requests for no environment ("", "") stay.
func (m *Metrics) forgetGone(live map[envKey]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.proxies {
		if k.env == "" || live[k] {
			continue
		}
		match := prometheus.Labels{"repo": k.repo, "env": k.env}
		m.proxied.DeletePartialMatch(match)
		m.latency.DeletePartialMatch(match)
		delete(m.proxies, k)
	}
}
