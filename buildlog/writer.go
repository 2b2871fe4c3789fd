package buildlog

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/workflows/build"
)

// Logs opens build logs in stream SLIPWAY_LOGS: build.Logs.
type Logs struct {
	JS jetstream.JetStream
	// MaxLines and MaxBytes bound a log's output; zero is natsjs's
	// LogMaxLines and LogMaxBytes.
	MaxLines, MaxBytes int
}

var _ build.Logs = (*Logs)(nil)

// Open implements build.Logs.
func (l *Logs) Open(ctx context.Context, repo, sha, service string) (build.Log, func(result string)) {
	w := &writer{
		ctx: ctx, js: l.JS, subject: natsjs.LogSubject(repo, sha, service), log: zerolog.Ctx(ctx),
		maxLines: l.MaxLines, maxBytes: l.MaxBytes,
	}
	if w.maxLines <= 0 {
		w.maxLines = natsjs.LogMaxLines
	}
	if w.maxBytes <= 0 {
		w.maxBytes = natsjs.LogMaxBytes
	}
	w.put(Record{Kind: KindBegin})
	return w, w.end
}

// writer is one build's log.
type writer struct {
	ctx                context.Context
	js                 jetstream.JetStream
	subject            string
	log                *zerolog.Logger
	maxLines, maxBytes int
	lines, bytes       int
	truncated          bool
	pending            []jetstream.PubAckFuture
	failed             bool
}

// Step implements build.Log.
func (w *writer) Step(name, status string) { w.put(Record{Kind: KindStep, Step: name, Status: status}) }

// Line implements build.Log: past the bounds it records one truncation
// record and drops the line.
func (w *writer) Line(step, text string) {
	if w.truncated {
		return
	}
	if w.lines+1 > w.maxLines || w.bytes+len(text) > w.maxBytes {
		w.truncated = true
		w.put(Record{Kind: KindTruncated, Step: step,
			Text: fmt.Sprintf("log truncated after %d lines (%d bytes): at most %d lines, %d bytes per build", w.lines, w.bytes, w.maxLines, w.maxBytes)})
		return
	}
	w.lines++
	w.bytes += len(text)
	w.put(Record{Kind: KindLine, Step: step, Text: text})
}

// end records the result and waits for the log's writes.
func (w *writer) end(result string) {
	w.put(Record{Kind: KindEnd, Result: result})
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), 10*time.Second)
	defer cancel()
	for _, f := range w.pending {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			w.fail(err)
		case <-ctx.Done():
			w.fail(ctx.Err())
			return
		}
	}
}

// put publishes r without waiting; Ok or Err arrive later.
func (w *writer) put(r Record) {
	r.Time = time.Now().UTC()
	b, err := json.Marshal(r)
	if err != nil {
		w.fail(err)
		return
	}
	f, err := w.js.PublishAsync(w.subject, b)
	if err != nil {
		w.fail(err)
		return
	}
	w.pending = append(w.pending, f)
	if len(w.pending) >= 256 {
		w.drain()
	}
}

// drain forgets the writes acknowledged so far.
func (w *writer) drain() {
	keep := w.pending[:0]
	for _, f := range w.pending {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			w.fail(err)
		default:
			keep = append(keep, f)
		}
	}
	w.pending = keep
	if len(w.pending) >= 256 {
		select {
		case <-w.js.PublishAsyncComplete():
		case <-time.After(5 * time.Second):
		}
		w.pending = w.pending[:0]
	}
}

// fail logs the first write that failed; the build goes on.
func (w *writer) fail(err error) {
	if !w.failed {
		w.failed = true
		w.log.Warn().Err(err).Str("log", w.subject).Msg("build log: write failed, the log is incomplete")
	}
}
