package natsjs

import (
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
)

// CloudEvents 1.0 attributes, as NATS headers (binary content mode).
const (
	HeaderSpecVersion = "ce-specversion"
	HeaderID          = "ce-id"
	HeaderType        = "ce-type"
	HeaderSource      = "ce-source"
	HeaderSubject     = "ce-subject"
	HeaderTime        = "ce-time"
	HeaderContentType = "content-type"

	specVersion = "1.0"

	// metaReply carries the JetStream ack subject through watermill so a
	// long handler can send in-progress acks.
	metaReply = "_slipway_reply"
	// metaDelivered carries how many times the message was delivered.
	metaDelivered = "_slipway_delivered"
)

// EncodeMsg turns an envelope into a NATS message on subject with the ce-*
// headers and the ce-id as Nats-Msg-Id.
func EncodeMsg(subject string, env events.Envelope) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Data = env.Data
	m.Header.Set(HeaderSpecVersion, specVersion)
	m.Header.Set(HeaderID, env.ID)
	m.Header.Set(HeaderType, env.Type)
	m.Header.Set(HeaderSource, env.Source)
	m.Header.Set(HeaderSubject, env.Subject)
	m.Header.Set(HeaderTime, env.Time.UTC().Format(time.RFC3339Nano))
	m.Header.Set(HeaderContentType, "application/json")
	m.Header.Set(nats.MsgIdHdr, env.ID)
	return m
}

// DecodeHeaders reads an envelope back from headers and body.
func DecodeHeaders(h nats.Header, data []byte) (events.Envelope, error) {
	env := events.Envelope{
		ID:      h.Get(HeaderID),
		Type:    h.Get(HeaderType),
		Source:  h.Get(HeaderSource),
		Subject: h.Get(HeaderSubject),
		Data:    data,
	}
	if v := h.Get(HeaderSpecVersion); v != specVersion {
		return env, fmt.Errorf("decode message: ce-specversion %q, want %q", v, specVersion)
	}
	if env.ID == "" || env.Type == "" {
		return env, fmt.Errorf("decode message: missing ce-id or ce-type")
	}
	t, err := time.Parse(time.RFC3339Nano, h.Get(HeaderTime))
	if err != nil {
		return env, fmt.Errorf("decode message: ce-time: %w", err)
	}
	env.Time = t
	return env, nil
}

// unmarshaler turns JetStream messages into watermill messages. It never
// fails: watermill-nats' jetstream subscriber does not survive an unmarshal
// error, so a message that cannot be decoded is handed on and rejected by the
// handler as permanent.
type unmarshaler struct{}

func (unmarshaler) Unmarshal(m jetstream.Msg) (*message.Message, error) {
	uuid := m.Headers().Get(HeaderID)
	delivered, seq := uint64(1), uint64(0)
	if md, err := m.Metadata(); err == nil {
		uuid = fmt.Sprintf("%s#%d", uuid, md.Sequence.Stream)
		delivered, seq = md.NumDelivered, md.Sequence.Stream
	}
	wm := message.NewMessage(uuid, m.Data())
	wm.Metadata.Set(metaSubject, m.Subject())
	wm.Metadata.Set(metaSeq, strconv.FormatUint(seq, 10))
	for k, v := range m.Headers() {
		if len(v) > 0 {
			wm.Metadata.Set(k, v[0])
		}
	}
	wm.Metadata.Set(metaReply, m.Reply())
	wm.Metadata.Set(metaDelivered, strconv.FormatUint(delivered, 10))
	return wm, nil
}

// envelopeOf decodes the envelope of a watermill message made by unmarshaler.
func envelopeOf(wm *message.Message) (events.Envelope, error) {
	h := nats.Header{}
	for k, v := range wm.Metadata {
		h.Set(k, v)
	}
	return DecodeHeaders(h, wm.Payload)
}
