package buildlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events/natsjs"
)

// ErrNoLog is returned by Read for a build that recorded no log.
var ErrNoLog = errors.New("no build log")

// Read returns the log of the last attempt at service's build of sha of
// repo, as stored now: the query behind `slipway logs` and the API.
func Read(ctx context.Context, js jetstream.JetStream, repo, sha, service string) ([]Record, error) {
	subject := natsjs.LogSubject(repo, sha, service)
	s, err := js.Stream(ctx, natsjs.LogStream)
	if err != nil {
		return nil, fmt.Errorf("read log %s: %w", subject, err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return nil, fmt.Errorf("read log %s: %w", subject, err)
	}
	if info.State.Subjects[subject] == 0 {
		return nil, fmt.Errorf("%s of %s at %s: %w", service, repo, sha, ErrNoLog)
	}
	var out []Record
	err = each(ctx, js, subject, func(r Record, last bool) bool {
		if r.Kind == KindBegin {
			out = out[:0]
		}
		out = append(out, r)
		return !last
	})
	return out, err
}

// Follow calls fn with each record of the log of service's build of sha
// of repo, those stored and those to come, and returns once the last
// attempt recorded its end (at once for a build that ended), or ctx ends.
// A build that has not started yet is waited for.
func Follow(ctx context.Context, js jetstream.JetStream, repo, sha, service string, fn func(Record)) error {
	return each(ctx, js, natsjs.LogSubject(repo, sha, service), func(r Record, last bool) bool {
		fn(r)
		return r.Kind != KindEnd || !last
	})
}

// each reads subject from its first record with an ordered consumer,
// telling fn whether a record is the last stored, until fn says stop.
func each(ctx context.Context, js jetstream.JetStream, subject string, fn func(r Record, last bool) (more bool)) error {
	c, err := js.OrderedConsumer(ctx, natsjs.LogStream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		return fmt.Errorf("read log %s: %w", subject, err)
	}
	it, err := c.Messages()
	if err != nil {
		return fmt.Errorf("read log %s: %w", subject, err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("read log %s: %w", subject, err)
		}
		var r Record
		if err := json.Unmarshal(m.Data(), &r); err != nil {
			continue
		}
		md, err := m.Metadata()
		last := err == nil && md.NumPending == 0
		if !fn(r, last) {
			return nil
		}
	}
}
