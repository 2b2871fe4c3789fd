package natsjs

import (
	"context"
	"strconv"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Metadata keys carrying where a consumed message is stored.
const (
	metaSeq     = "_slipway_seq"
	metaSubject = "_slipway_subject"
)

// Stored is where a consumed event is stored in stream SLIPWAY.
type Stored struct {
	// Seq is the stream sequence, Subject the NATS subject.
	Seq     uint64
	Subject string
}

type storedKey struct{}

// withStored returns ctx carrying the position of wm.
func withStored(ctx context.Context, wm *message.Message) context.Context {
	seq, _ := strconv.ParseUint(wm.Metadata.Get(metaSeq), 10, 64)
	return context.WithValue(ctx, storedKey{}, Stored{Seq: seq, Subject: wm.Metadata.Get(metaSubject)})
}

// StoredOf returns the position of the event a Route's handler was
// called with; ok is false outside a handler or when JetStream gave no
// sequence.
func StoredOf(ctx context.Context) (p Stored, ok bool) {
	p, ok = ctx.Value(storedKey{}).(Stored)
	return p, ok && p.Seq > 0
}

// WithStored returns ctx carrying p, for a handler called outside a
// Runner (a rebuild reading the stream).
func WithStored(ctx context.Context, p Stored) context.Context {
	return context.WithValue(ctx, storedKey{}, p)
}
