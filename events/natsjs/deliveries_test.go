package natsjs

import (
	"context"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/slipway-dev/slipway/events"
)

func TestDeliveryKey(t *testing.T) {
	if got, want := DeliveryKey("github", "72d3162e-cc78"), "github.72d3162e-cc78"; got != want {
		t.Errorf("DeliveryKey() = %q, want %q", got, want)
	}
	if got := DeliveryKey("gitea", strings.Repeat("é", 100)); len(got) > 80 || !strings.HasPrefix(got, "gitea.h-") {
		t.Errorf("DeliveryKey(long) = %q", got)
	}
	if DeliveryKey("a", "b.c") == DeliveryKey("a.b", "c") {
		t.Error("keys of different deliveries collide")
	}
}

// TestDeliverySubjects checks that the record of a delivery is found
// whichever event the receiver published last.
func TestDeliverySubjects(t *testing.T) {
	for _, e := range []events.Event{
		&events.PushReceived{}, &events.BranchDeleted{}, &events.TagPushed{}, &events.TagDeleted{},
		&events.PullRequestChanged{Action: "opened"}, &events.PullRequestChanged{Action: "merged"},
	} {
		if !matchesAny(e.Subject(), DeliverySubjects()) {
			t.Errorf("%s is not among the delivery subjects %v", e.Subject(), DeliverySubjects())
		}
	}
	if matchesAny(events.SubjectBuildRequested, DeliverySubjects()) {
		t.Errorf("delivery subjects %v include builds", DeliverySubjects())
	}
}

func matchesAny(subject string, filters []string) bool {
	for _, f := range filters {
		if subjectMatches(subject, f) {
			return true
		}
	}
	return false
}

// subjectMatches reports whether subject matches filter, with NATS' "*"
// and ">" wildcards.
func subjectMatches(subject, filter string) bool {
	s, f := strings.Split(subject, "."), strings.Split(filter, ".")
	for i, tok := range f {
		switch {
		case tok == ">":
			return len(s) > i
		case i >= len(s):
			return false
		case tok != "*" && tok != s[i]:
			return false
		}
	}
	return len(s) == len(f)
}

// TestPublishDelivery checks that the last event of a delivery carries its
// record, that a record without an event is no event to the readers of
// events, and that both are deduplicated inside the window.
func TestPublishDelivery(t *testing.T) {
	ctx := context.Background()
	_, js := MustJetStream(t, MustServer(t).ClientURL())
	p := NewPublisher(js, "/slipway/test")
	e := &events.PushReceived{Repo: events.Repo{FullName: "acme/shop"}, Ref: "refs/heads/main", Branch: "main", After: strings.Repeat("a", 40)}
	key := DeliveryKey("github", "d-1")
	for i, wantDup := range []bool{false, true} {
		if dup, err := p.PublishDelivery(ctx, e, key); err != nil || dup != wantDup {
			t.Fatalf("PublishDelivery %d = %v, %v; want duplicate %v", i, dup, err, wantDup)
		}
	}
	for range 2 {
		if err := p.RecordDelivery(ctx, DeliveryKey("github", "d-2")); err != nil {
			t.Fatal(err)
		}
	}
	s, err := js.Stream(ctx, StreamName)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := s.GetLastMsgForSubject(ctx, e.Subject())
	if err != nil {
		t.Fatal(err)
	}
	if got := stored.Header.Get(HeaderDelivery); got != key {
		t.Errorf("%s = %q, want %q", HeaderDelivery, got, key)
	}
	if got := stored.Header.Get(nats.MsgIdHdr); got != e.DedupKey() {
		t.Errorf("Nats-Msg-Id = %q, want the event's dedup key", got)
	}
	rec, err := s.GetLastMsgForSubject(ctx, SubjectDeliveryRecorded)
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Header.Get(HeaderDelivery); got != DeliveryKey("github", "d-2") || len(rec.Data) != 0 {
		t.Errorf("record %q with %d bytes", got, len(rec.Data))
	}
	st, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.State.Msgs != 2 {
		t.Errorf("stream holds %d messages, want the event and one record", st.State.Msgs)
	}
	envs, err := Events(ctx, js, events.SubjectRoot+".>")
	if err != nil || len(envs) != 1 || envs[0].ID != e.DedupKey() {
		t.Errorf("Events() = %d envelopes, %v; want the one event", len(envs), err)
	}
}
