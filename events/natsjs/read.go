package natsjs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
)

// Events reads, oldest first, every stored event whose subject matches one of
// filters: the stream is the audit log. It stops at the end of the stream.
func Events(ctx context.Context, js jetstream.JetStream, filters ...string) ([]events.Envelope, error) {
	return readStream(ctx, js, filters)
}

// readStream returns, oldest first, every message of stream SLIPWAY whose
// subject matches one of filters, read by "next message for subject" gets
// from the stream's leader. No consumer is created: on a cluster that lost
// a node, an ephemeral consumer may be placed on the lost node and never
// answer (seen with nats-server 2.12: a third of the attempts hung).
func readStream(ctx context.Context, js jetstream.JetStream, filters []string) ([]events.Envelope, error) {
	var s jetstream.Stream
	err := askAgain(ctx, func(ctx context.Context) (err error) {
		s, err = js.Stream(ctx, StreamName)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read %v: %w", filters, err)
	}
	type stored struct {
		seq uint64
		env events.Envelope
	}
	var all []stored
	for _, f := range filters {
		for seq := uint64(1); ; {
			m, err := getNext(ctx, s, seq, f)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("read %s from %d: %w", f, seq, err)
			}
			if env, err := DecodeHeaders(m.Header, m.Data); err == nil {
				all = append(all, stored{m.Sequence, env})
			}
			seq = m.Sequence + 1
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seq < all[j].seq })
	out := make([]events.Envelope, len(all))
	for i, s := range all {
		out[i] = s.env
	}
	return out, nil
}

// getNext gets the first message at or after seq on subject f.
func getNext(ctx context.Context, s jetstream.Stream, seq uint64, f string) (m *jetstream.RawStreamMsg, err error) {
	err = askAgain(ctx, func(ctx context.Context) error {
		m, err = s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(f))
		return err
	})
	return m, err
}

// askAgain calls a JetStream API request with a timeout of its own and asks
// again while requests go unanswered, as they do while a cluster elects a
// new leader, until ctx ends.
func askAgain(ctx context.Context, request func(context.Context) error) error {
	for {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := request(rctx)
		cancel()
		if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
	}
}
