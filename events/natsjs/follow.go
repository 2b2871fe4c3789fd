package natsjs

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// FollowConfig says what a Follower reads and where it starts.
type FollowConfig struct {
	// Filters are the subjects followed.
	Filters []string
	// StartSeq, when set, starts at that stream sequence; otherwise
	// StartTime, when set, at the first message stored at or after it;
	// otherwise at the first message.
	StartSeq  uint64
	StartTime time.Time
	// PullExpiry bounds each pull request; missing two of its heartbeats
	// (half of it) makes the consumer recreate itself. Zero is the
	// client's default (30s).
	PullExpiry time.Duration
	// OnError, when set, is called with the consumer's errors; it keeps
	// going after them.
	OnError func(error)
}

// Headers are a message's headers and its position, as a Follower delivers
// them (its body is not read).
type Headers struct {
	Header nats.Header
	// Stream and Consumer are the message's sequences in the stream and in
	// the server-side consumer named ConsumerName.
	Stream, Consumer uint64
	ConsumerName     string
	// Pending is how many matching messages follow it.
	Pending uint64
	// Time is when the stream stored it.
	Time time.Time
}

// Follower is an ordered, headers-only consumer of a stream: it delivers
// the headers of the matching messages in stream order, and recreates its
// server-side consumer by itself after a reconnect, a server restart or
// missed heartbeats, from the message after the last one it delivered.
type Follower struct {
	cons jetstream.Consumer
	cc   jetstream.ConsumeContext
}

// Follow starts a Follower of stream s as cfg says, calling fn with the
// headers of each message, one at a time, until Stop.
func Follow(ctx context.Context, s jetstream.Stream, cfg FollowConfig, fn func(Headers)) (*Follower, error) {
	occ := jetstream.OrderedConsumerConfig{FilterSubjects: cfg.Filters, HeadersOnly: true}
	switch {
	case cfg.StartSeq > 0:
		occ.DeliverPolicy, occ.OptStartSeq = jetstream.DeliverByStartSequencePolicy, cfg.StartSeq
	case !cfg.StartTime.IsZero():
		start := cfg.StartTime
		occ.DeliverPolicy, occ.OptStartTime = jetstream.DeliverByStartTimePolicy, &start
	}
	cons, err := s.OrderedConsumer(ctx, occ)
	if err != nil {
		return nil, fmt.Errorf("follow %v: %w", cfg.Filters, err)
	}
	opts := []jetstream.PullConsumeOpt{jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if cfg.OnError != nil {
			cfg.OnError(err)
		}
	})}
	if cfg.PullExpiry > 0 {
		opts = append(opts, jetstream.PullExpiry(cfg.PullExpiry))
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		md, err := m.Metadata()
		if err != nil {
			return
		}
		fn(Headers{Header: m.Headers(), Stream: md.Sequence.Stream, Consumer: md.Sequence.Consumer,
			ConsumerName: md.Consumer, Pending: md.NumPending, Time: md.Timestamp})
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("follow %v: %w", cfg.Filters, err)
	}
	return &Follower{cons: cons, cc: cc}, nil
}

// ConsumerName returns the name of the server-side consumer the follower
// reads through now, or "" before it has one. It waits while the follower
// recreates that consumer (as long as a cluster has no stream leader).
func (f *Follower) ConsumerName() string {
	if ci := f.cons.CachedInfo(); ci != nil {
		return ci.Name
	}
	return ""
}

// Stop stops following. It may wait for a recreation in progress.
func (f *Follower) Stop() { f.cc.Stop() }

// Position asks the server how far the consumer named name of stream s
// has come: the messages it delivered and those still pending.
func Position(ctx context.Context, s jetstream.Stream, name string) (delivered, pending uint64, err error) {
	c, err := s.Consumer(ctx, name)
	if err != nil {
		return 0, 0, fmt.Errorf("consumer %s: %w", name, err)
	}
	info := c.CachedInfo()
	return info.Delivered.Consumer, info.NumPending, nil
}
