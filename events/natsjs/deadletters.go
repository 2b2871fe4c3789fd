package natsjs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DeadLetter is one message in SLIPWAY_DLQ.
type DeadLetter struct {
	// Seq is its sequence in SLIPWAY_DLQ: what `slipway dlq retry` takes.
	Seq uint64
	// At is when it was dead-lettered.
	At time.Time
	// Consumer failed to handle it Deliveries times.
	Consumer   string
	Deliveries uint64
	// Subject and StreamSeq locate the original in stream SLIPWAY.
	Subject   string
	StreamSeq uint64
	// ID and Type are its CloudEvents id and type, when it has them.
	ID, Type string

	header nats.Header
	data   []byte
}

// DeadLetters returns every dead letter, oldest first.
func DeadLetters(ctx context.Context, js jetstream.JetStream) ([]DeadLetter, error) {
	s, err := js.Stream(ctx, DeadLetterStream)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", DeadLetterStream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", DeadLetterStream, err)
	}
	var out []DeadLetter
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // retried and removed
		}
		if err != nil {
			return nil, fmt.Errorf("read %s#%d: %w", DeadLetterStream, seq, err)
		}
		out = append(out, deadLetter(m))
	}
	return out, nil
}

// CountDeadLetters returns how many dead letters wait.
func CountDeadLetters(ctx context.Context, js jetstream.JetStream) (uint64, error) {
	s, err := js.Stream(ctx, DeadLetterStream)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", DeadLetterStream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", DeadLetterStream, err)
	}
	return info.State.Msgs, nil
}

func deadLetter(m *jetstream.RawStreamMsg) DeadLetter {
	h := m.Header
	seq, _ := strconv.ParseUint(h.Get(HeaderDeadSeq), 10, 64)
	n, _ := strconv.ParseUint(h.Get(HeaderDeadDeliveries), 10, 64)
	return DeadLetter{
		Seq: m.Sequence, At: m.Time, Consumer: h.Get(HeaderDeadConsumer), Deliveries: n,
		Subject: h.Get(HeaderDeadSubject), StreamSeq: seq, ID: h.Get(HeaderID), Type: h.Get(HeaderType),
		header: h, data: m.Data,
	}
}

// RetryDeadLetter publishes the dead letter seq again on its original
// subject under a new id (its ce-id and Nats-Msg-Id get ".retry-<seq>"), so
// neither the duplicate window nor an earlier retry hides it, and removes it
// from SLIPWAY_DLQ. It returns the new id. Handlers key their claims on the
// event's content, not on its id, so a retried step still runs once.
func RetryDeadLetter(ctx context.Context, js jetstream.JetStream, seq uint64) (string, error) {
	s, err := js.Stream(ctx, DeadLetterStream)
	if err != nil {
		return "", fmt.Errorf("retry dead letter %d: %w", seq, err)
	}
	m, err := s.GetMsg(ctx, seq)
	if err != nil {
		return "", fmt.Errorf("retry dead letter %d: %w", seq, err)
	}
	d := deadLetter(m)
	if d.Subject == "" {
		return "", fmt.Errorf("retry dead letter %d: no original subject", seq)
	}
	out := nats.NewMsg(d.Subject)
	out.Data = d.data
	for k, v := range d.header {
		out.Header[k] = v
	}
	for _, k := range []string{HeaderDeadConsumer, HeaderDeadSubject, HeaderDeadSeq, HeaderDeadDeliveries} {
		out.Header.Del(k)
	}
	id := d.ID
	if id == "" {
		id = "dead-letter"
	}
	id += ".retry-" + strconv.FormatUint(seq, 10)
	out.Header.Set(HeaderID, id)
	out.Header.Set(nats.MsgIdHdr, id)
	out.Header.Set(HeaderRetryOf, strconv.FormatUint(seq, 10))
	if _, err := js.PublishMsg(ctx, out); err != nil {
		return "", fmt.Errorf("retry dead letter %d: %w", seq, err)
	}
	if err := s.DeleteMsg(ctx, seq); err != nil {
		return id, fmt.Errorf("retry dead letter %d: published as %s, but not removed: %w", seq, id, err)
	}
	return id, nil
}
