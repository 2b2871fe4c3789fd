package natsstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/readmodel"
	"github.com/slipway-dev/slipway/workflows/release"
)

// DeployLog reads the deploy results of environments from the stream: the
// audit log as release.History.
type DeployLog struct{ js jetstream.JetStream }

var _ release.History = (*DeployLog)(nil)

// NewDeployLog returns the log read through js.
func NewDeployLog(js jetstream.JetStream) *DeployLog { return &DeployLog{js: js} }

// Deploys implements release.History: the results of env of repo, with
// those earlier versions recorded on the subject of the environment alone
// that name repo.
func (l *DeployLog) Deploys(ctx context.Context, repo, env string) ([]release.Deploy, error) {
	msgs, err := Messages(ctx, l.js, resultSubjects(repo, env)...)
	if err != nil {
		return nil, err
	}
	var out []release.Deploy
	for _, d := range deploysOf(msgs) {
		if d.Repo.FullName == repo {
			out = append(out, d)
		}
	}
	return out, nil
}

// resultSubjects are the subjects of the deploy results of env of repo:
// scoped by repository, and those of earlier versions.
func resultSubjects(repo, env string) []string {
	var out []string
	for _, p := range []string{events.SubjectDeploySucceeded, events.SubjectDeployFailed, events.SubjectDeploySuperseded} {
		out = append(out, events.EnvSubject(p, repo, env), events.LegacyEnvSubject(p, env))
	}
	return out
}

// All returns the deploys of every environment, by environment, oldest
// first.
func (l *DeployLog) All(ctx context.Context) (map[events.EnvID][]release.Deploy, error) {
	msgs, err := Messages(ctx, l.js, events.SubjectDeploySucceeded+".>", events.SubjectDeployFailed+".>",
		events.SubjectDeploySuperseded+".>")
	if err != nil {
		return nil, err
	}
	out := map[events.EnvID][]release.Deploy{}
	for _, d := range deploysOf(msgs) {
		id := events.EnvID{Repo: d.Repo.FullName, Env: d.Env}
		out[id] = append(out[id], d)
	}
	return out, nil
}

// deploysOf decodes deploy result messages.
func deploysOf(msgs []Message) []release.Deploy {
	out := make([]release.Deploy, 0, len(msgs))
	for _, m := range msgs {
		ev, err := m.Decode()
		if err != nil {
			continue
		}
		if r, ok := events.ResultOf(ev); ok {
			out = append(out, release.Deploy{DeployResult: r, ID: m.ID, Seq: m.Seq, Time: m.Time})
		}
	}
	return out
}

// Built returns every image built, from the build-succeeded events.
func (l *DeployLog) Built(ctx context.Context) ([]release.Built, error) {
	msgs, err := Messages(ctx, l.js, events.SubjectBuildSucceeded)
	if err != nil {
		return nil, err
	}
	var out []release.Built
	for _, m := range msgs {
		ev, err := m.Decode()
		if err != nil {
			continue
		}
		b, ok := ev.(*events.BuildSucceeded)
		if !ok || b.Digest == "" {
			continue
		}
		name := b.Image
		if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
			name = name[:i]
		}
		out = append(out, release.Built{Name: name, Commit: b.Commit, Digest: b.Digest, At: m.Time})
	}
	return out, nil
}

// Message is a stored event with its place in the stream.
type Message struct {
	events.Envelope
	Seq         uint64
	NATSSubject string
}

// Messages reads, oldest first, every stored event on one of filters, with
// its stream sequence.
func Messages(ctx context.Context, js jetstream.JetStream, filters ...string) ([]Message, error) {
	c, err := js.OrderedConsumer(ctx, natsjs.StreamName, jetstream.OrderedConsumerConfig{FilterSubjects: filters})
	if err != nil {
		return nil, fmt.Errorf("read %v: %w", filters, err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %v: %w", filters, err)
	}
	var out []Message
	for pending := info.NumPending; pending > 0; {
		batch, err := c.Fetch(int(min(pending, 256)), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, fmt.Errorf("read %v: %w", filters, err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			env, err := natsjs.DecodeHeaders(m.Headers(), m.Data())
			if err != nil {
				continue
			}
			msg := Message{Envelope: env, NATSSubject: m.Subject()}
			if md, err := m.Metadata(); err == nil {
				msg.Seq = md.Sequence.Stream
			}
			out = append(out, msg)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return nil, fmt.Errorf("read %v: %w", filters, err)
		}
		if n == 0 {
			break
		}
		pending -= uint64(n)
	}
	return out, nil
}

// ErrEventNotFound is returned by FindEvent for an id or sequence the stream
// does not hold.
var ErrEventNotFound = errors.New("event not found")

// FindEvent returns the stored event at stream sequence seq, or, with seq 0,
// the last one whose ce-id is id, looked up in the read model's index of
// ids (no scan of the stream). An event the stream no longer holds (past
// its retention) is not found.
func FindEvent(ctx context.Context, js jetstream.JetStream, seq uint64, id string) (Message, error) {
	s, err := js.Stream(ctx, natsjs.StreamName)
	if err != nil {
		return Message{}, fmt.Errorf("find event: %w", err)
	}
	if seq == 0 {
		m, err := readmodel.Open(ctx, js)
		if err != nil {
			return Message{}, fmt.Errorf("find event: %w", err)
		}
		at, err := m.Event(ctx, id)
		if errors.Is(err, readmodel.ErrNotFound) {
			return Message{}, fmt.Errorf("id %q: %w", id, ErrEventNotFound)
		}
		if err != nil {
			return Message{}, fmt.Errorf("find event: %w", err)
		}
		seq = at.Seq
	}
	raw, err := s.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Message{}, fmt.Errorf("sequence %d (past the stream's retention, or never stored): %w", seq, ErrEventNotFound)
	}
	if err != nil {
		return Message{}, fmt.Errorf("find event %d: %w", seq, err)
	}
	env, err := natsjs.DecodeHeaders(raw.Header, raw.Data)
	if err != nil {
		return Message{}, err
	}
	return Message{Envelope: env, Seq: raw.Sequence, NATSSubject: raw.Subject}, nil
}

// LastEvent returns the last stored event on subject.
func LastEvent(ctx context.Context, js jetstream.JetStream, subject string) (Message, error) {
	s, err := js.Stream(ctx, natsjs.StreamName)
	if err != nil {
		return Message{}, fmt.Errorf("last event on %s: %w", subject, err)
	}
	raw, err := s.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Message{}, fmt.Errorf("on %s: %w", subject, ErrEventNotFound)
	}
	if err != nil {
		return Message{}, fmt.Errorf("last event on %s: %w", subject, err)
	}
	env, err := natsjs.DecodeHeaders(raw.Header, raw.Data)
	if err != nil {
		return Message{}, err
	}
	return Message{Envelope: env, Seq: raw.Sequence, NATSSubject: raw.Subject}, nil
}
