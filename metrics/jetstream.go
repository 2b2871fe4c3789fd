package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/readmodel"
)

// state reads, at each scrape, what JetStream and the read model hold.
type state struct {
	m         *Metrics
	js        jetstream.JetStream
	model     *readmodel.Model
	consumers []string
}

var (
	envInfo = prometheus.NewDesc("slipway_env_info",
		"Information about an environment: the commit it runs, its health and target; always 1.",
		[]string{"repo", "env", "commit", "health", "target"}, nil)
	pending = prometheus.NewDesc("slipway_consumer_pending_messages",
		"Messages of stream SLIPWAY a durable consumer has not delivered yet.", []string{"consumer"}, nil)
	ackPending = prometheus.NewDesc("slipway_consumer_ack_pending_messages",
		"Messages a durable consumer delivered that are not acknowledged yet.", []string{"consumer"}, nil)
	deadLetters = prometheus.NewDesc("slipway_dead_letters",
		"Messages waiting in the dead-letter stream.", nil, nil)
)

// WatchJetStream adds the gauges read from JetStream and the read model:
// consumers are the durable consumers of stream SLIPWAY to report. Only
// the first call counts (a restarted deployer calls it again).
func (m *Metrics) WatchJetStream(js jetstream.JetStream, model *readmodel.Model, consumers []string) {
	var already prometheus.AlreadyRegisteredError
	if err := m.Registry.Register(&state{m: m, js: js, model: model, consumers: consumers}); err != nil && !errors.As(err, &already) {
		panic(err)
	}
}

// Describe implements prometheus.Collector.
func (s *state) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{envInfo, pending, ackPending, deadLetters} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. What cannot be read is left
// out of the scrape.
func (s *state) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if envs, err := s.model.Envs(ctx, ""); err == nil {
		live := make(map[envKey]bool, len(envs))
		for _, e := range envs {
			if e.Health == readmodel.HealthRemoved {
				continue // a removed preview: its series go (forgetGone)
			}
			live[envKey{e.Repo, e.Env}] = true
			ch <- prometheus.MustNewConstMetric(envInfo, prometheus.GaugeValue, 1,
				e.Repo, e.Env, e.Commit, string(e.Health), events.TargetName(e.Target))
		}
		s.m.forgetGone(live)
	}
	if st, err := s.js.Stream(ctx, natsjs.StreamName); err == nil {
		for _, name := range s.consumers {
			c, err := st.Consumer(ctx, name)
			if err != nil {
				continue
			}
			info := c.CachedInfo()
			ch <- prometheus.MustNewConstMetric(pending, prometheus.GaugeValue, float64(info.NumPending), name)
			ch <- prometheus.MustNewConstMetric(ackPending, prometheus.GaugeValue, float64(info.NumAckPending), name)
		}
	}
	if n, err := natsjs.CountDeadLetters(ctx, s.js); err == nil {
		ch <- prometheus.MustNewConstMetric(deadLetters, prometheus.GaugeValue, float64(n))
	}
}
