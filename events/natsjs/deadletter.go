package natsjs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// Dead letters: a message a consumer failed to handle MaxDeliver times.
// JetStream announces each with a max-deliveries advisory; the stream
// SLIPWAY_ADVISORIES keeps those advisories, so none is lost while no
// Slipway process runs, and CopyDeadLetters copies each message they name
// into SLIPWAY_DLQ, where `slipway dlq` lists and retries it.
const (
	// DeadLetterStream holds the copies, on slipway_dlq.<consumer>.
	DeadLetterStream = "SLIPWAY_DLQ"
	// AdvisoryStream keeps the max-deliveries advisories of stream SLIPWAY.
	AdvisoryStream = "SLIPWAY_ADVISORIES"
	// ConsumerDeadLetters copies dead letters; every builder and deployer
	// runs it, each advisory is handled by one.
	ConsumerDeadLetters = "dead-letters"

	deadLetterSubject = "slipway_dlq"
	advisorySubject   = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + StreamName + ".*"
	advisoryMaxAge    = 7 * 24 * time.Hour

	// Headers a dead letter carries besides the message's own.
	HeaderDeadConsumer   = "Slipway-Dead-Consumer"
	HeaderDeadSubject    = "Slipway-Dead-Subject"
	HeaderDeadSeq        = "Slipway-Dead-Stream-Seq"
	HeaderDeadDeliveries = "Slipway-Dead-Deliveries"
	// HeaderRetryOf marks a message `slipway dlq retry` re-published: the
	// dead letter's sequence in SLIPWAY_DLQ.
	HeaderRetryOf = "Slipway-Retry-Of"
)

// provisionDeadLetters creates the advisory and dead-letter streams and the
// copier's consumer.
func provisionDeadLetters(ctx context.Context, js jetstream.JetStream, t Topology) error {
	streams := []jetstream.StreamConfig{
		{Name: AdvisoryStream, Description: "max-deliveries advisories of stream SLIPWAY, for the dead-letter copier",
			Subjects: []string{advisorySubject}, Storage: jetstream.FileStorage, Replicas: t.Replicas, MaxAge: advisoryMaxAge},
		{Name: DeadLetterStream, Description: "events a consumer failed to handle MaxDeliver times; slipway dlq",
			Subjects: []string{deadLetterSubject + ".>"}, Storage: jetstream.FileStorage, Replicas: t.Replicas, Duplicates: t.DuplicateWindow},
	}
	for _, sc := range streams {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("provision stream %s: %w", sc.Name, err)
		}
	}
	_, err := js.CreateOrUpdateConsumer(ctx, AdvisoryStream, jetstream.ConsumerConfig{
		Durable: ConsumerDeadLetters, Description: "copies dead letters into " + DeadLetterStream,
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: t.AckWait, Replicas: t.Replicas,
	})
	if err != nil {
		return fmt.Errorf("provision consumer %s: %w", ConsumerDeadLetters, err)
	}
	return nil
}

// advisory is JetStream's io.nats.jetstream.advisory.v1.max_deliver.
type advisory struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// CopyDeadLetters copies every message named by a max-deliveries advisory
// into SLIPWAY_DLQ until ctx ends. A copy's Nats-Msg-Id names the consumer
// and the sequence, so a copy made twice is stored once.
func CopyDeadLetters(ctx context.Context, js jetstream.JetStream, log zerolog.Logger) error {
	c, err := js.Consumer(ctx, AdvisoryStream, ConsumerDeadLetters)
	if err != nil {
		return fmt.Errorf("bind consumer %s: %w", ConsumerDeadLetters, err)
	}
	cc, err := c.Consume(func(m jetstream.Msg) {
		if err := copyDeadLetter(ctx, js, m.Data()); err != nil {
			log.Warn().Err(err).Msg("copying a dead letter failed; will retry")
			_ = m.NakWithDelay(2 * time.Second)
			return
		}
		_ = m.Ack()
	}, jetstream.PullMaxMessages(16))
	if err != nil {
		return fmt.Errorf("consume %s: %w", ConsumerDeadLetters, err)
	}
	<-ctx.Done()
	cc.Drain()
	return nil
}

func copyDeadLetter(ctx context.Context, js jetstream.JetStream, data []byte) error {
	var a advisory
	if err := json.Unmarshal(data, &a); err != nil || a.StreamSeq == 0 {
		return nil // not an advisory we understand: nothing to copy
	}
	s, err := js.Stream(ctx, a.Stream)
	if err != nil {
		return fmt.Errorf("dead letter %s#%d: %w", a.Stream, a.StreamSeq, err)
	}
	orig, err := s.GetMsg(ctx, a.StreamSeq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dead letter %s#%d: %w", a.Stream, a.StreamSeq, err)
	}
	m := nats.NewMsg(deadLetterSubject + "." + a.Consumer)
	m.Data = orig.Data
	for k, v := range orig.Header {
		m.Header[k] = v
	}
	m.Header.Set(HeaderDeadConsumer, a.Consumer)
	m.Header.Set(HeaderDeadSubject, orig.Subject)
	m.Header.Set(HeaderDeadSeq, strconv.FormatUint(a.StreamSeq, 10))
	m.Header.Set(HeaderDeadDeliveries, strconv.FormatUint(a.Deliveries, 10))
	m.Header.Set(nats.MsgIdHdr, fmt.Sprintf("dlq.%s.%s.%d", a.Stream, a.Consumer, a.StreamSeq))
	if _, err := js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("dead letter %s#%d: %w", a.Stream, a.StreamSeq, err)
	}
	return nil
}
