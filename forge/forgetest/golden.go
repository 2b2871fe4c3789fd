package forgetest

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
)

// Outcome is the golden form of a parse result: either the reason it was
// ignored or the events with their types, subjects and dedup keys.
type Outcome struct {
	Ignored string         `json:"ignored,omitempty"`
	Events  []EventOutcome `json:"events,omitempty"`
}

// EventOutcome is one event of an Outcome.
type EventOutcome struct {
	Type     string       `json:"type"`
	Subject  string       `json:"subject"`
	DedupKey string       `json:"dedup_key"`
	Event    events.Event `json:"event"`
}

// NewOutcome returns the outcome of a parse. An error that is not an
// ignored error fails the test.
func NewOutcome(tb testing.TB, evs []events.Event, err error) Outcome {
	tb.Helper()
	var o Outcome
	if err != nil {
		reason, ok := forge.IgnoredReason(err)
		if !ok {
			tb.Fatalf("parse: %v", err)
		}
		o.Ignored = reason
	}
	for _, e := range evs {
		o.Events = append(o.Events, EventOutcome{Type: e.EventType(), Subject: e.Subject(), DedupKey: e.DedupKey(), Event: e})
	}
	return o
}

// MustOutcome returns the indented JSON of the outcome of a parse.
func MustOutcome(tb testing.TB, evs []events.Event, err error) []byte {
	tb.Helper()
	return MustJSON(tb, NewOutcome(tb, evs, err))
}

// MustJSON returns v as indented JSON without HTML escaping, the form of
// every golden file.
func MustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		tb.Fatalf("marshal golden: %v", err)
	}
	return b.Bytes()
}

// MustMatchGolden compares got with the golden file at path, or rewrites the
// file when update is set (go test -update).
func MustMatchGolden(tb testing.TB, path string, got []byte, update bool) {
	tb.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatalf("update golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read golden (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("%s differs (run go test -update after checking the change)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// MustReadFile returns the content of path.
func MustReadFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read fixture: %v", err)
	}
	return b
}
